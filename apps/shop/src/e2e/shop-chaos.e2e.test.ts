/**
 * Chaos: while 200 orders are placed at concurrency 8, a random service other than the gateway is
 * SIGKILLed every 1–2 s and the supervisor restarts it. The clients are the shop's own client
 * (load/shop-client.ts): a POST that meets a 5xx or no answer is sent again with backoff and the
 * same Idempotency-Key; each client waits up to 5 s for an order's outcome before its next one.
 * Once the kills stop, the shop must add up, whatever the kills hit:
 * - every order accepted (202, one per key) is CONFIRMED or CANCELLED within 90 s;
 * - money: a CONFIRMED order was charged its total once, a CANCELLED one refunded all it was
 *   charged; a declined or unanswered card never confirms, and an approvable card is cancelled
 *   only by a step that missed its deadline;
 * - every saga is terminal and agrees with its order (completed / compensated), none anywhere is
 *   running, compensating or dead, and nothing is dead-lettered;
 * - stock is conserved (initial = available + sold) with nothing left reserved;
 * - My Orders lists exactly the orders placed, with their final status;
 * - once the transport's ack timeout has passed since the last kill, new orders confirm.
 * On embedded defaults, on PostgreSQL + NATS, and on the same with two processes of every service
 * (the monkey then kills one process of two); which run when: chosenChaosBackends.
 */
import { describeWithService } from '@causeway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopClient, ShopHttpError, type ShopResponse } from '../load/shop-client.ts';
import { shopAckTimeoutMs } from '../platform/open-backends.ts';
import { chosenChaosBackends, countBy, startChaosMonkey } from './chaos-monkey.ts';
import { postgresNatsShop } from './postgres-nats-shop.ts';
import { pause, type RunningShop, startShop, until } from './running-shop.ts';

const orderCount = 200;
const concurrency = 8;
const initialStock = 150;
const tokens = [
  'tok_visa',
  'tok_visa',
  'tok_visa',
  'tok_declined',
  'tok_flaky',
  'tok_visa',
  'tok_timeout',
  'tok_visa',
];
/** How long the orders may take to end once the kills stop. */
const settleMs = 90_000;
/** What a client may meet while a service restarts; anything else (a 500) is a bug. */
const transientFailures = new Set(['502', '503', '504', 'unreachable']);

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field by the assertions
type Json = any;

interface Placed {
  orderId: string;
  token: string;
  productId: string;
  quantity: number;
}

/** A client as a shopper's app would be: about a minute of retries before it gives up. */
function chaosClient(api: string) {
  const retried: string[] = [];
  const client = new ShopClient(
    api,
    { attempts: 40, initialMs: 100, maxMs: 2_000 },
    {
      onRetry: (error) => retried.push(error instanceof ShopHttpError ? String(error.status) : 'unreachable'),
    },
  );
  /** A GET's answer, or undefined while the shop cannot give one (callers poll). */
  const read = async (path: string): Promise<ShopResponse<Json> | undefined> => {
    try {
      return await client.get<Json>(path);
    } catch (error) {
      if (error instanceof ShopHttpError && error.status < 500)
        return { status: error.status, body: error.problem, headers: new Headers() };
      return undefined;
    }
  };
  const outcomeOf = (orderId: string, timeoutMs: number) =>
    until(
      () => read(`/orders/${orderId}`),
      (order) => order?.status === 200 && order.body.status !== 'PENDING' && !order.body.partial,
      { timeoutMs, everyMs: 200 },
    );
  return { client, read, outcomeOf, retried };
}

function describeChaos(title: string, env: () => Record<string, string>) {
  describe(title, () => {
    let shop: RunningShop;
    beforeAll(async () => {
      shop = await startShop({ ...env(), SHOP_PAYMENT_TIMEOUT_MS: '5000' });
    }, 120_000);
    afterAll(async () => shop?.stop());

    it('SIGKILL of a random service every 1–2 s while 200 orders are placed: every order ends, and money, stock, sagas and read models add up', async () => {
      const { client, read, outcomeOf, retried } = chaosClient(shop.api);
      const user = await client.post<Json>(
        '/users',
        { name: 'Chaos Monkey', email: 'chaos@example.com' },
        'chaos-user',
      );
      const userId: string = user.body.id;
      const products: string[] = [];
      for (const [index, price] of [300, 450, 700].entries()) {
        const product = await client.post<Json>(
          '/products',
          { sku: `CHAOS-${index}`, name: `Chaos ${index}`, priceCents: price },
          `chaos-product-${index}`,
        );
        products.push(product.body.id);
        await client.post(
          `/inventory/${product.body.id}/restock`,
          { quantity: initialStock },
          `chaos-restock-${index}`,
        );
      }

      const monkey = startChaosMonkey(shop.api);
      const chaosBegan = Date.now();
      const placed: Placed[] = [];
      let next = 0;
      const shopper = async () => {
        while (next < orderCount) {
          const index = next++;
          const order = {
            token: tokens[index % tokens.length]!,
            productId: products[index % products.length]!,
            quantity: 1 + (index % 2),
          };
          const answer = await client.post<Json>(
            '/orders',
            {
              userId,
              items: [{ productId: order.productId, quantity: order.quantity }],
              payment: { token: order.token },
            },
            `chaos-order-${index}`,
          );
          expect(answer.status, JSON.stringify(answer.body)).toBe(202);
          placed.push({ orderId: answer.body.orderId, ...order });
          // Like a shopper, waits (a while) for the outcome before the next order: the kills then
          // land on orders in every stage, not only on their placement.
          await outcomeOf(answer.body.orderId, 5_000);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, shopper));
      const { kills, lastKillAt } = await monkey.stop();
      const chaosMs = Date.now() - chaosBegan;
      console.info('[shop chaos] kills', JSON.stringify(countBy(kills, (name) => name)));
      console.info('[shop chaos] POSTs retried after', JSON.stringify(countBy(retried, (why) => why)));
      expect(kills.length).toBeGreaterThanOrEqual(10);
      expect(new Set(placed.map((order) => order.orderId)).size).toBe(orderCount);
      expect(
        retried.filter((why) => !transientFailures.has(why)),
        'failures a retry hid',
      ).toEqual([]);

      // Quiescence: every order final, with a whole answer, within settleMs.
      const settleBegan = Date.now();
      const outcomes = new Map<string, Json>();
      while (outcomes.size < orderCount && Date.now() - settleBegan < settleMs) {
        for (const order of placed) {
          if (outcomes.has(order.orderId)) continue;
          const answer = await read(`/orders/${order.orderId}`);
          if (answer?.status === 200 && answer.body.status !== 'PENDING' && !answer.body.partial)
            outcomes.set(order.orderId, answer.body);
        }
        if (outcomes.size < orderCount) await pause(500);
      }
      const settledMs = Date.now() - settleBegan;
      expect(
        placed
          .filter((order) => !outcomes.has(order.orderId))
          .map((order) => `${order.orderId} (${order.token})`),
        `orders not CONFIRMED or CANCELLED within ${settleMs / 1000} s`,
      ).toEqual([]);
      const outcomeOfOrder = (order: Placed) => outcomes.get(order.orderId)!;
      console.info(
        '[shop chaos] outcomes by token',
        JSON.stringify(
          countBy(placed, (order) => {
            const { status, cancelReason } = outcomeOfOrder(order);
            return `${order.token} ${status}${cancelReason ? `: ${cancelReason.replace(/ \(attempt \d+\)$/, '')}` : ''}`;
          }),
          null,
          1,
        ),
      );

      expect(placed.flatMap((order) => moneyProblems(order, outcomeOfOrder(order)))).toEqual([]);

      // A saga ends soon after its order (its last reply may still be on its way): within 60 s.
      const sagaProblems: string[] = [];
      const sagasDue = Date.now() + 60_000;
      for (const order of placed) {
        const expected = outcomeOfOrder(order).status === 'CONFIRMED' ? 'completed' : 'compensated';
        const saga = await until(
          () => read(`/sagas/${order.orderId}`),
          (answer) => answer?.status === 200 && answer.body.status === expected,
          { timeoutMs: Math.max(0, sagasDue - Date.now()), everyMs: 500 },
        );
        if (saga?.body.status !== expected)
          sagaProblems.push(
            `${order.orderId} ${outcomeOfOrder(order).status}: saga ${JSON.stringify(saga?.body)}`,
          );
      }
      for (const status of ['running', 'compensating', 'dead']) {
        const answer = await until(
          () => read(`/admin/sagas?status=${status}`),
          (list) => list?.status === 200,
        );
        expect(answer?.status, `GET /admin/sagas?status=${status}`).toBe(200);
        for (const saga of answer?.body.items ?? [])
          sagaProblems.push(`${saga.service}: ${JSON.stringify(saga)}`);
      }
      expect(sagaProblems).toEqual([]);
      const deadLetters = await until(
        () => read('/dead-letters'),
        (answer) => answer?.status === 200,
      );
      expect(deadLetters?.body.items, 'dead letters').toEqual([]);

      for (const productId of products) {
        const sold = placed
          .filter((order) => order.productId === productId && outcomeOfOrder(order).status === 'CONFIRMED')
          .reduce((sum, order) => sum + order.quantity, 0);
        const stock = await until(
          () => read(`/inventory/${productId}`),
          (answer) => answer?.status === 200 && answer.body.reserved === 0,
          { everyMs: 200 },
        );
        expect(stock?.body.reserved, `${productId} reserved`).toBe(0);
        expect(stock?.body.available, `${productId} available`).toBeGreaterThanOrEqual(0);
        expect(stock!.body.available + sold, `${productId}: available + sold`).toBe(initialStock);
      }

      // My Orders (the query service's read model) converges: exactly these orders, final statuses.
      const expectedMine = Object.fromEntries(
        placed.map((order) => [order.orderId, outcomeOfOrder(order).status]),
      );
      const statusesIn = (answer: ShopResponse<Json> | undefined) =>
        Object.fromEntries((answer?.body?.items ?? []).map((item: Json) => [item.orderId, item.status]));
      const mine = await until(
        () => read(`/users/${userId}/orders`),
        (answer) =>
          JSON.stringify(sortedEntries(statusesIn(answer))) === JSON.stringify(sortedEntries(expectedMine)),
        { everyMs: 500 },
      );
      expect(mine?.body.items).toHaveLength(orderCount);
      expect(statusesIn(mine)).toEqual(expectedMine);

      // Recovered: once every delivery a killed process held is due again, approvable orders confirm.
      await pause(lastKillAt + shopAckTimeoutMs + 1_000 - Date.now());
      const recovery: string[] = [];
      for (const [index, productId] of products.entries()) {
        const answer = await client.post<Json>(
          '/orders',
          { userId, items: [{ productId, quantity: 1 }], payment: { token: 'tok_visa' } },
          `chaos-after-${index}`,
        );
        recovery.push((await outcomeOf(answer.body.orderId, 30_000))?.body.status);
      }
      expect(recovery).toEqual(['CONFIRMED', 'CONFIRMED', 'CONFIRMED']);

      const statuses = countBy([...outcomes.values()], (outcome) => String(outcome.status));
      console.info(
        '[shop chaos] summary',
        JSON.stringify({ statuses, kills: kills.length, chaosMs, settledMs }),
      );
      // The properties above are the bar; this only says the happy path got through under kills.
      expect(statuses.CONFIRMED ?? 0).toBeGreaterThan(0);
    }, 900_000);
  });
}

/** What is wrong with an order's money and outcome, given its payment token. */
function moneyProblems(order: Placed, outcome: Json): string[] {
  const problems: string[] = [];
  const { chargedCents, refundedCents } = outcome.payment;
  const about = `${order.orderId} (${order.token}) ${outcome.status}`;
  if (outcome.status === 'CONFIRMED') {
    if (chargedCents !== outcome.totalCents || refundedCents !== 0)
      problems.push(`${about}: charged ${chargedCents}, refunded ${refundedCents} of ${outcome.totalCents}`);
    if (order.token === 'tok_declined' || order.token === 'tok_timeout') problems.push(about);
    if (outcome.shipment.status !== 'SCHEDULED')
      problems.push(`${about}: shipment ${outcome.shipment.status}`);
    return problems;
  }
  if (chargedCents !== refundedCents || (chargedCents !== 0 && chargedCents !== outcome.totalCents))
    problems.push(`${about}: charged ${chargedCents}, refunded ${refundedCents} of ${outcome.totalCents}`);
  if (outcome.shipment.status === 'SCHEDULED') problems.push(`${about}: shipment SCHEDULED`);
  // A card that would be approved is refused only by time: a step that missed its deadline.
  const allowed = order.token === 'tok_declined' ? /card declined|no reply within/ : /no reply within/;
  if (!allowed.test(outcome.cancelReason ?? '')) problems.push(`${about}: ${outcome.cancelReason}`);
  return problems;
}

const sortedEntries = (record: Record<string, unknown>) =>
  Object.entries(record).sort(([a], [b]) => a.localeCompare(b));

const chosen = chosenChaosBackends();
console.info(`[shop chaos] backends this run: ${chosen.join(', ')} (SHOP_CHAOS_BACKENDS=all runs every one)`);

if (chosen.includes('embedded')) describeChaos('chaos on embedded defaults', () => ({}));

if (chosen.includes('postgres-nats')) {
  const backends = postgresNatsShop('shopchaos');
  describeWithService('postgres', 'chaos on PostgreSQL', () => {
    describeWithService('nats', 'and NATS', () => {
      afterAll(() => backends.remove());
      describeChaos('the shop on PostgreSQL + NATS', backends.env);
    });
  });
}

if (chosen.includes('postgres-nats-x2')) {
  const backends = postgresNatsShop('shopchaosx2');
  describeWithService('postgres', 'chaos on PostgreSQL', () => {
    describeWithService('nats', 'and NATS', () => {
      afterAll(() => backends.remove());
      describeChaos('the shop on PostgreSQL + NATS, two processes of each service', () => ({
        ...backends.env(),
        SHOP_INSTANCES: 'all=2',
      }));
    });
  });
}
