/**
 * Service independence, the point of copying data: the orders service decides an order from its
 * own replicas (products from catalog's events, user ids from users' events), so with catalog and
 * users stopped (SIGSTOP) an order is still taken and confirmed, and an unknown product or user is
 * a 404 from orders itself. GET /products/:id shows the stock as inventory's events last said
 * (`available`, `availableAsOf`), fresh on every read although the catalog's part is cached. On
 * embedded defaults, and on PostgreSQL + NATS.
 */

import { encodeConsistencyToken } from '@causeway/core';
import { describeWithService } from '@causeway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { postgresNatsShop } from './postgres-nats-shop.ts';
import { type RunningShop, startShop, until } from './running-shop.ts';
import { type Answer, shopApi } from './shop-api.ts';

function describeServiceIndependence(title: string, env: () => Record<string, string>) {
  describe(title, () => {
    let shop: RunningShop;
    beforeAll(async () => {
      shop = await startShop(env());
    }, 120_000);
    afterAll(async () => shop?.stop());

    const api = shopApi(() => shop.api, { timeoutMs: 20_000 });
    const tokenOf = (answer: Answer) => answer.headers.get('consistency-token') ?? '';

    /** A new user and product (with stock): their ids and the Consistency-Tokens of their creation. */
    async function userAndProduct(stock: number) {
      const user = await api('POST', '/users', { name: 'Grace Hopper', email: 'grace@example.com' });
      const product = await api('POST', '/products', {
        sku: `SKU-${Math.random().toString(36).slice(2, 8)}`,
        name: 'Oolong',
        priceCents: 300,
      });
      expect([user.status, product.status]).toEqual([201, 201]);
      if (stock > 0)
        expect((await api('POST', `/inventory/${product.body.id}/restock`, { quantity: stock })).status).toBe(
          200,
        );
      return {
        userId: user.body.id as string,
        productId: product.body.id as string,
        tokens: `${tokenOf(user)}, ${tokenOf(product)}`,
      };
    }
    const order = (userId: string, productId: string, quantity = 1) => ({
      userId,
      items: [{ productId, quantity }],
      payment: { token: 'tok_visa' },
    });
    const finished = (orderId: string) =>
      until(
        () => api('GET', `/orders/${orderId}`),
        (answer) => answer.status === 200 && answer.body.status !== 'PENDING',
      );
    function expectProblem(answer: Answer, status: number) {
      expect(answer.status).toBe(status);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body).toMatchObject({ status, type: expect.any(String), detail: expect.any(String) });
    }
    async function pidsOf(...names: string[]) {
      const { services } = (await api('GET', '/health')).body as {
        services: Record<string, { pid: number }>;
      };
      return names.map((name) => services[name]!.pid);
    }
    /** Runs `work` with the named services frozen (SIGSTOP), and lets them go on after (SIGCONT). */
    async function whileStopped<T>(names: string[], work: () => Promise<T>): Promise<T> {
      const pids = await pidsOf(...names);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      try {
        return await work();
      } finally {
        for (const pid of pids) process.kill(pid, 'SIGCONT');
      }
    }

    it('with catalog and users stopped, POST /orders is accepted (202) and the order is CONFIRMED', async () => {
      const { userId, productId, tokens } = await userAndProduct(5);
      // The tokens of the user's and product's creation: orders answers once its replicas have both.
      const first = await api('POST', '/orders', order(userId, productId), { 'consistency-token': tokens });
      expect(first.status).toBe(202);

      const confirmed = await whileStopped(['catalog', 'users'], async () => {
        const placed = await api('POST', '/orders', order(userId, productId, 2));
        expect(placed.status).toBe(202);
        expect(placed.body).toEqual({ orderId: expect.any(String), status: 'PENDING' });
        // Inventory, payments and shipping run the saga: nothing on its path asks catalog or users.
        return finished(placed.body.orderId);
      });
      expect(confirmed.body).toMatchObject({
        status: 'CONFIRMED',
        items: [{ productId, name: 'Oolong', unitPriceCents: 300, quantity: 2 }],
        totalCents: 600,
        payment: { status: 'CHARGED', chargedCents: 600 },
        shipment: { status: 'SCHEDULED' },
      });
      expect((await finished(first.body.orderId)).body.status).toBe('CONFIRMED');
    });

    it('with catalog and users stopped, an unknown product or user is a 404 problem from orders', async () => {
      const { userId, productId, tokens } = await userAndProduct(5);
      expect(
        (await api('POST', '/orders', order(userId, productId), { 'consistency-token': tokens })).status,
      ).toBe(202);
      await whileStopped(['catalog', 'users'], async () => {
        const noProduct = await api('POST', '/orders', order(userId, 'no-such-product'));
        expectProblem(noProduct, 404);
        expect(noProduct.body.detail).toContain('no-such-product');
        const noUser = await api('POST', '/orders', order('no-such-user', productId));
        expectProblem(noUser, 404);
        expect(noUser.body.detail).toContain('no-such-user');
      });
    });

    it('a forgotten user is a 404 at once, once the DELETE reached orders (its token is waited for)', async () => {
      const { userId, productId, tokens } = await userAndProduct(5);
      expect(
        (await api('POST', '/orders', order(userId, productId), { 'consistency-token': tokens })).status,
      ).toBe(202);
      const forgotten = await api('DELETE', `/users/${userId}`);
      expect(forgotten.status).toBe(202);
      const began = Date.now();
      expectProblem(
        await api('POST', '/orders', order(userId, productId), { 'consistency-token': tokenOf(forgotten) }),
        404,
      );
      // Not the bounded wait for an id never seen (3 s): the replica knows the user was forgotten.
      expect(Date.now() - began).toBeLessThan(2_500);
    });

    it('a Consistency-Token naming a write orders has not received: 503 with Retry-After, nothing placed', async () => {
      const { userId, productId, tokens } = await userAndProduct(5);
      expect(
        (await api('POST', '/orders', order(userId, productId), { 'consistency-token': tokens })).status,
      ).toBe(202);
      // Version 9 of the user's stream: no such write exists, so the replica never reaches it.
      const ahead = encodeConsistencyToken([{ streamId: `user-${userId}`, version: 9 }]);
      const refused = await api('POST', '/orders', order(userId, productId), { 'consistency-token': ahead });
      expectProblem(refused, 503);
      expect(refused.headers.get('retry-after')).toBe('1');
      const mine = await until(
        () => api('GET', `/users/${userId}/orders`),
        (answer) => answer.body.items.length >= 1,
      );
      expect(mine.body.items).toHaveLength(1);
    });

    it('GET /products/:id: available and availableAsOf follow restocks and orders, fresh despite the cache', async () => {
      const { userId, productId, tokens } = await userAndProduct(0);
      const never = await api('GET', `/products/${productId}`);
      expect(never.body).toMatchObject({ id: productId, name: 'Oolong', available: 0, availableAsOf: null });

      expect((await api('POST', `/inventory/${productId}/restock`, { quantity: 5 })).status).toBe(200);
      const stocked = await until(
        () => api('GET', `/products/${productId}`),
        (answer) => answer.body.available === 5,
      );
      expect(stocked.body.available).toBe(5);
      // The catalog's part came from the cache; the stock did not.
      expect(stocked.headers.get('x-cache')).toBe('hit');
      const stockedAsOf = Date.parse(stocked.body.availableAsOf);
      expect(stockedAsOf).toBeGreaterThan(Date.now() - 60_000);

      const placed = await api('POST', '/orders', order(userId, productId, 2), {
        'consistency-token': tokens,
      });
      expect((await finished(placed.body.orderId)).body.status).toBe('CONFIRMED');
      const afterOrder = await until(
        () => api('GET', `/products/${productId}`),
        (answer) => answer.body.available === 3,
      );
      expect(afterOrder.body.available).toBe(3);
      expect(Date.parse(afterOrder.body.availableAsOf)).toBeGreaterThan(stockedAsOf);

      expect((await api('POST', `/inventory/${productId}/restock`, { quantity: 4 })).status).toBe(200);
      const restocked = await until(
        () => api('GET', `/products/${productId}`),
        (answer) => answer.body.available === 7,
      );
      expect(restocked.body.available).toBe(7);
      expect(Date.parse(restocked.body.availableAsOf)).toBeGreaterThanOrEqual(
        Date.parse(afterOrder.body.availableAsOf),
      );
    });

    it('GET /products/:id with orders stopped: the catalog part, available null and partial [available]', async () => {
      const { productId } = await userAndProduct(2);
      await until(
        () => api('GET', `/products/${productId}`),
        (answer) => answer.body.available === 2,
      );
      const answer = await whileStopped(['orders'], () => api('GET', `/products/${productId}`));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        id: productId,
        name: 'Oolong',
        available: null,
        availableAsOf: null,
        partial: ['available'],
      });
    });
  });
}

describeServiceIndependence('service independence on embedded defaults', () => ({}));

const backends = postgresNatsShop('indep');

describeWithService('postgres', 'service independence on PostgreSQL', () => {
  describeWithService('nats', 'and NATS', () => {
    afterAll(() => backends.remove());
    describeServiceIndependence('service independence on PostgreSQL + NATS', backends.env);
  });
});
