/**
 * The Analytics rows of SHOP-API through the gateway (part of shop-rows.ts, so they run on both
 * backends): gold's sales reconcile with what the orders service's own log says, the model DAG
 * and its runs are shown, and bad input is a problem.
 */
import { expect, it } from 'vitest';
import type { TopCustomer } from '../services/analytics/top-customers.ts';
import { type Order, type OrderEvent, orderOf } from '../services/orders/orders-domain.ts';
import { serviceLog } from './analytics-kill-support.ts';
import { until } from './running-shop.ts';
import type { Answer, ShopApi as Api } from './shop-api.ts';

/**
 * How long gold may take to show what the services committed: a liveness bound, not a speed test.
 * On PostgreSQL + NATS with two processes of each service, beside the crash tests of a CI run, the
 * WAL ingest and the model runs once took over 20 s.
 */
const goldCatchUpMs = 60_000;

/** One row of `GET /analytics/sales`. */
export interface SalesRow {
  key: string;
  orders: number;
  units: number;
  revenueCents: number;
}

/** Every order as the orders service's log has it (whole, past a gap held back), folded with the service's own domain code. */
async function ordersFromTheLog(gatewayApi: string): Promise<Order[]> {
  return ordersOf((await serviceLog(gatewayApi, 'orders', { data: true })) as unknown as OrderEvent[]);
}

/** The orders of the orders service's events, each stream folded with the service's own `orderOf`. */
export function ordersOf(events: readonly OrderEvent[]): Order[] {
  const byOrder = new Map<string, OrderEvent[]>();
  for (const event of events) byOrder.set(event.streamId, [...(byOrder.get(event.streamId) ?? []), event]);
  return [...byOrder.values()].map((stream) => orderOf(stream)).filter((order) => order !== null);
}

/** CONFIRMED orders summed by day, product or ship-to country, as SHOP-API defines them. */
export function expectedSales(orders: readonly Order[], groupBy: 'day' | 'product' | 'country'): SalesRow[] {
  const rows = new Map<string, { orders: Set<string>; units: number; revenueCents: number }>();
  for (const order of orders.filter((each) => each.status === 'CONFIRMED')) {
    for (const item of order.items) {
      const key =
        groupBy === 'day'
          ? order.placedAt.slice(0, 10)
          : groupBy === 'product'
            ? item.productId
            : (order.shipToCountry ?? 'unknown');
      const row = rows.get(key) ?? { orders: new Set(), units: 0, revenueCents: 0 };
      row.orders.add(order.orderId);
      row.units += item.quantity;
      row.revenueCents += item.quantity * item.unitPriceCents;
      rows.set(key, row);
    }
  }
  return [...rows.entries()]
    .map(([key, row]) => ({ key, orders: row.orders.size, units: row.units, revenueCents: row.revenueCents }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function analyticsRows(
  api: Api,
  gatewayApi: () => string,
  fixtures: {
    newUser(name?: string, email?: string): Promise<string>;
    newProduct(stock: number, priceCents?: number): Promise<string>;
    finished(orderId: string): Promise<Answer>;
    /** The shop's SHOP_ADMIN_TOKEN: personal data is shown to its bearer only. */
    adminToken: string;
  },
): void {
  it('GET /analytics/sales by day, product and country equals what the orders service holds, for every payment outcome', async () => {
    const userId = await fixtures.newUser();
    const productId = await fixtures.newProduct(50, 725);
    const outcomes = [
      ['tok_visa', 'DE'],
      ['tok_visa', undefined],
      ['tok_declined', 'FR'],
      ['tok_flaky', 'FR'],
      ['tok_visa', 'XX'], // refused by shipping: charged, then refunded
    ] as const;
    const placed = await Promise.all(
      outcomes.map(([token, country]) =>
        api('POST', '/orders', {
          userId,
          items: [{ productId, quantity: 3 }],
          payment: { token },
          ...(country ? { shippingAddress: { country } } : {}),
        }),
      ),
    );
    const ended = await Promise.all(placed.map((answer) => fixtures.finished(answer.body.orderId)));
    expect(ended.map((answer) => answer.body.status)).toEqual([
      'CONFIRMED',
      'CONFIRMED',
      'CANCELLED',
      'CONFIRMED',
      'CANCELLED',
    ]);
    expect(ended[4]!.body.payment).toMatchObject({
      status: 'REFUNDED',
      chargedCents: 2175,
      refundedCents: 2175,
    });

    // Read again each time: an order of an earlier row may still be ending while gold catches up.
    for (const groupBy of ['day', 'product', 'country'] as const) {
      const { expected, answer } = await until(
        async () => ({
          expected: expectedSales(await ordersFromTheLog(gatewayApi()), groupBy),
          answer: await api('GET', `/analytics/sales?groupBy=${groupBy}`),
        }),
        (both) => JSON.stringify(both.answer.body.rows) === JSON.stringify(both.expected),
        { timeoutMs: goldCatchUpMs },
      );
      expect(answer.body.rows).toEqual(expected);
      expect(answer.body.asOf).toEqual(expect.any(String));
    }
    const byProduct = await api('GET', '/analytics/sales?groupBy=product');
    expect(byProduct.body.rows.find((row: SalesRow) => row.key === productId)).toEqual({
      key: productId,
      orders: 3,
      units: 9,
      revenueCents: 9 * 725,
    });
  }, 240_000);

  it('GET /analytics/customers ranks customers by revenue under a pseudonymous key, the email masked but for the admin token, and none once forgotten', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const bigEmail = `big-${suffix}@example.test`;
    const smallEmail = `small-${suffix}@example.test`;
    const big = await fixtures.newUser('Big Spender', bigEmail);
    const small = await fixtures.newUser('Small Spender', smallEmail);
    const productId = await fixtures.newProduct(20, 1_000);
    const orders = [
      [big, 3, 'tok_visa', 'DE'],
      [small, 1, 'tok_visa', 'FR'],
      [small, 5, 'tok_declined', 'FR'],
    ] as const;
    const placed = await Promise.all(
      orders.map(([userId, quantity, token, country]) =>
        api('POST', '/orders', {
          userId,
          items: [{ productId, quantity }],
          payment: { token },
          shippingAddress: { country },
        }),
      ),
    );
    const ended = await Promise.all(placed.map((answer) => fixtures.finished(answer.body.orderId)));
    expect(ended.map((answer) => answer.body.status)).toEqual(['CONFIRMED', 'CONFIRMED', 'CANCELLED']);

    const asAdmin = { authorization: `Bearer ${fixtures.adminToken}` };
    const customers = async (headers: Record<string, string> = {}) =>
      (await api('GET', '/analytics/customers?top=100', undefined, headers)).body.rows as TopCustomer[];
    const ours = (rows: TopCustomer[], email: string) => rows.find((row) => row.email === email);
    const shown = await until(
      () => customers(asAdmin),
      (rows) =>
        ours(rows, bigEmail)?.revenueCents === 3_000 && ours(rows, smallEmail)?.revenueCents === 1_000,
      { timeoutMs: goldCatchUpMs },
    );
    const bigRow = ours(shown, bigEmail)!;
    const smallRow = ours(shown, smallEmail)!;
    expect(bigRow).toEqual({
      customerKey: expect.stringMatching(/^[0-9a-f]{64}$/),
      country: 'DE',
      orders: 1,
      revenueCents: 3_000,
      email: bigEmail,
      forgotten: false,
    });
    expect(smallRow).toMatchObject({ country: 'FR', orders: 1, revenueCents: 1_000 });
    expect(JSON.stringify(shown)).not.toContain(big);
    // Ranked by revenue.
    expect(shown.indexOf(bigRow)).toBeLessThan(shown.indexOf(smallRow));

    // Without the token, or with a wrong one, the same rows with the email masked.
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const masked = await customers(headers);
      expect(masked.find((row) => row.customerKey === bigRow.customerKey)).toEqual({
        ...bigRow,
        email: `b***@example.test`,
      });
      expect(JSON.stringify(masked)).not.toContain(bigEmail);
    }

    // Forgotten: no email for anyone, the revenue stays counted.
    expect((await api('DELETE', `/users/${small}`)).status).toBe(202);
    const forgotten = await until(
      async () => (await customers(asAdmin)).find((row) => row.customerKey === smallRow.customerKey),
      (row) => row?.forgotten === true,
      { timeoutMs: goldCatchUpMs },
    );
    expect(forgotten).toEqual({ ...smallRow, email: null, forgotten: true });

    const bad = await api('GET', '/analytics/customers?top=0');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  }, 180_000);

  it('GET /analytics/freshness gives each layer and each source its lag', async () => {
    const answer = await api('GET', '/analytics/freshness');
    expect(answer.status).toBe(200);
    for (const layer of ['bronze', 'silver', 'gold']) {
      expect(answer.body.layers[layer]).toEqual({ lagMs: expect.any(Number), updatedAt: expect.any(String) });
    }
    expect(answer.body.sources.map((source: { service: string }) => source.service)).toEqual(
      expect.arrayContaining(['catalog', 'orders', 'payments', 'users']),
    );
  });

  it('GET /analytics/models shows the DAG with each model last run and its tests; POST /analytics/runs runs it again', async () => {
    const { body } = await api('GET', '/analytics/models');
    const fact = body.models.find((model: { name: string }) => model.name === 'fct_order_line');
    expect(fact).toMatchObject({
      layer: 'gold',
      materialized: 'incremental',
      lastRun: { status: 'success', rows: expect.any(Number) },
    });
    expect(fact.dependsOn).toEqual(
      expect.arrayContaining(['order_lines', 'orders', 'dim_product', 'dim_customer']),
    );
    expect(fact.tests.length).toBeGreaterThan(0);

    const started = await api('POST', '/analytics/runs');
    expect(started.status).toBe(202);
    const run = await until(
      () => api('GET', `/analytics/runs/${started.body.runId}`),
      (answer) => answer.status === 200 && ['success', 'failed'].includes(answer.body.status),
    );
    expect(run.body.status).toBe('success');
    expect(run.body.models.map((model: { model: string }) => model.model)).toEqual(
      expect.arrayContaining(['events', 'fct_order_line', 'sales_by_day']),
    );
  });

  it('POST /analytics/replay rebuilds every layer from the logs (Kappa) and every answer stays the same', async () => {
    const before = await Promise.all(
      ['day', 'product', 'country'].map((groupBy) => api('GET', `/analytics/sales?groupBy=${groupBy}`)),
    );
    const replayed = await api('POST', '/analytics/replay');
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ generation: 2, replaced: 1, run: { status: 'success' } });
    expect(replayed.body.changes).toBeGreaterThan(0);
    const after = await Promise.all(
      ['day', 'product', 'country'].map((groupBy) => api('GET', `/analytics/sales?groupBy=${groupBy}`)),
    );
    expect(after.map((answer) => answer.body.rows)).toEqual(before.map((answer) => answer.body.rows));
    const models = await api('GET', '/analytics/models');
    expect(
      models.body.models.every(
        (model: { lastRun: { status: string } }) => model.lastRun.status === 'success',
      ),
    ).toBe(true);
  });

  it('a bad groupBy or run id is a 400 problem, an unknown run a 404', async () => {
    const badGroup = await api('GET', '/analytics/sales?groupBy=week');
    expect(badGroup.status).toBe(400);
    expect(badGroup.headers.get('content-type')).toContain('application/problem+json');
    expect((await api('GET', '/analytics/runs/not-a-run')).status).toBe(400);
    expect((await api('GET', `/analytics/runs/${crypto.randomUUID()}`)).status).toBe(404);
  });
}
