/**
 * Reverse ETL through the gateway (part of shop-rows.ts, so it runs on both backends): gold's
 * ranking of products by units sold over the last 7 days reaches `GET /products/:id` as
 * `salesRank`; a catalog stopped and then SIGKILLed while ranks are pushed delays them and loses
 * none; a replayed older run changes nothing.
 */
import { expect, it } from 'vitest';
import type { Order } from '../services/orders/orders-domain.ts';
import { serviceLog, serviceUrl } from './analytics-kill-support.ts';
import { ordersOf } from './analytics-rows.ts';
import { pause, until } from './running-shop.ts';
import type { Answer, ShopApi as Api } from './shop-api.ts';
import { processesOf, type ServicesHealth } from './shop-processes.ts';

const week = 7 * 24 * 3_600_000;

/** Ranks as SHOP-API defines them, from the orders service's own log: 1 + products that sold more. */
function expectedRanks(orders: readonly Order[], now: number): Map<string, number> {
  const units = new Map<string, number>();
  for (const order of orders) {
    if (order.status !== 'CONFIRMED' || Date.parse(order.placedAt) < now - week) continue;
    for (const item of order.items)
      units.set(item.productId, (units.get(item.productId) ?? 0) + item.quantity);
  }
  const ranks = new Map<string, number>();
  for (const [product, sold] of units) {
    ranks.set(product, 1 + [...units.values()].filter((other) => other > sold).length);
  }
  return ranks;
}

interface Ranked {
  salesRank: number | null;
  salesRankAsOf: string | null;
}

export function reverseEtlRows(
  api: Api,
  gatewayApi: () => string,
  fixtures: {
    newUser(): Promise<string>;
    newProduct(stock: number, priceCents?: number): Promise<string>;
    finished(orderId: string): Promise<Answer>;
    adminToken: string;
  },
): void {
  const rankOf = async (productId: string): Promise<Ranked> => {
    const answer = await api('GET', `/products/${productId}`);
    expect(answer.status).toBe(200);
    return { salesRank: answer.body.salesRank, salesRankAsOf: answer.body.salesRankAsOf };
  };
  const sell = async (userId: string, productId: string, quantity: number) => {
    const placed = await api('POST', '/orders', {
      userId,
      items: [{ productId, quantity }],
      payment: { token: 'tok_visa' },
    });
    expect((await fixtures.finished(placed.body.orderId)).body.status).toBe('CONFIRMED');
  };
  /** Waits until the catalog shows every given product's rank as the orders log says it. */
  const ranksArrive = async (productIds: readonly string[], timeoutMs = 60_000) => {
    const { expected, shown } = await until(
      async () => {
        const expected = expectedRanks(
          ordersOf((await serviceLog(gatewayApi(), 'orders', { data: true })) as never),
          Date.now(),
        );
        const shown = await Promise.all(productIds.map(rankOf));
        return { expected, shown };
      },
      ({ expected, shown }) =>
        productIds.every((id, at) => shown[at]!.salesRank === (expected.get(id) ?? null)),
      { timeoutMs, everyMs: 500 },
    );
    expect(shown.map((ranked) => ranked.salesRank)).toEqual(productIds.map((id) => expected.get(id) ?? null));
    return shown;
  };

  it('GET /products/:id carries salesRank from gold: 1 sold most over 7 days, null without sales', async () => {
    const userId = await fixtures.newUser();
    const [most, fewer, none] = await Promise.all([
      fixtures.newProduct(100),
      fixtures.newProduct(100),
      fixtures.newProduct(100),
    ]);
    await Promise.all([sell(userId, most!, 9), sell(userId, fewer!, 4)]);
    const [mostRank, fewerRank, noneRank] = await ranksArrive([most!, fewer!, none!]);
    expect(mostRank!.salesRank).toBeLessThan(fewerRank!.salesRank!);
    expect(mostRank!.salesRankAsOf).toEqual(expect.any(String));
    expect(noneRank).toEqual({ salesRank: null, salesRankAsOf: null });

    const syncs = await api('GET', '/analytics/reverse-etl');
    expect(syncs.status).toBe(200);
    expect(syncs.body.syncs).toEqual([
      { name: 'catalog-sales-rank', schedule: { afterModelRun: true, minIntervalMs: expect.any(Number) } },
    ]);
    expect(syncs.body.runs[0]).toMatchObject({ sync: 'catalog-sales-rank', status: 'success' });
    // Run now, as an admin may: nothing changed since the ranks arrived, so nothing is pushed for them.
    const now = await api(
      'POST',
      '/analytics/reverse-etl/runs',
      {},
      { authorization: `Bearer ${fixtures.adminToken}` },
    );
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({
      sync: 'catalog-sales-rank',
      status: 'success',
      replayOf: null,
      rows: expect.any(Number),
    });
    expect((await api('POST', '/analytics/reverse-etl/runs', { sync: 'no-such-sync' })).status).toBe(404);
    expect((await api('POST', '/analytics/reverse-etl/runs/not-a-uuid/replay')).status).toBe(400);
  });

  it('a catalog stopped and SIGKILLed while ranks are pushed gets them once it is back; a replayed older run changes nothing', async () => {
    const asAdmin = { authorization: `Bearer ${fixtures.adminToken}` };
    const userId = await fixtures.newUser();
    const [first, second] = await Promise.all([fixtures.newProduct(200), fixtures.newProduct(200)]);
    await Promise.all([sell(userId, first!, 20), sell(userId, second!, 10)]);
    await ranksArrive([first!, second!]);
    const older = (await api('GET', '/analytics/reverse-etl?limit=200')).body.runs.find(
      (run: { pushed: number; replayOf: string | null; status: string }) =>
        run.pushed > 0 && run.replayOf === null && run.status === 'success',
    );
    expect(older).toBeDefined();

    // The catalog (every process of it) is frozen while the second product overtakes the first and its rank is pushed.
    const catalogPids = catalogPidsOf((await api('GET', '/health')).body.services);
    for (const pid of catalogPids) process.kill(pid, 'SIGSTOP');
    try {
      const soldAt = new Date().toISOString();
      await sell(userId, second!, 30);
      // A run after the sale pushed: its commands are in the analytics outbox, or on their way.
      const pushed = await until(
        async () =>
          (await api('GET', '/analytics/reverse-etl')).body.runs as Array<{
            startedAt: string;
            pushed: number;
          }>,
        (runs) => runs.some((run) => run.startedAt > soldAt && run.pushed > 0),
        { timeoutMs: 30_000, everyMs: 250 },
      );
      expect(pushed.some((run) => run.startedAt > soldAt && run.pushed > 0)).toBe(true);
    } finally {
      for (const pid of catalogPids) process.kill(pid, 'SIGKILL');
    }
    // The supervisor restarts it; the commands it had not handled are delivered again.
    const [firstRank, secondRank] = await ranksArrive([first!, second!], 90_000);
    expect(secondRank!.salesRank).toBeLessThan(firstRank!.salesRank!);
    const restarted = catalogPidsOf((await api('GET', '/health')).body.services);
    expect(restarted.filter((pid) => catalogPids.includes(pid))).toEqual([]);

    // The older run, in which the first product ranked above the second, sent again.
    const replay = await api('POST', `/analytics/reverse-etl/runs/${older.runId}/replay`, {}, asAdmin);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ replayOf: older.runId, status: 'success', pushed: older.pushed });
    // Published once the analytics outbox is empty; then the catalog keeps what it had.
    await until(
      async () =>
        (await (await fetch(`${serviceUrl(gatewayApi(), 'analytics')}/admin/outbox`)).json()) as {
          count: number;
        },
      (backlog) => backlog.count === 0,
      { timeoutMs: 30_000 },
    );
    for (let look = 0; look < 6; look++) {
      expect(await Promise.all([rankOf(first!), rankOf(second!)])).toEqual([firstRank, secondRank]);
      await pause(500);
    }
    // No push was given up on: the catalog handled every one it was sent.
    const deadLetters = (await api('GET', '/dead-letters')).body.items as Array<{
      service: string;
      type?: string;
    }>;
    expect(deadLetters.filter((entry) => entry.service === 'catalog')).toEqual([]);
  });
}

const catalogPidsOf = (services: ServicesHealth) =>
  processesOf(services)
    .filter(({ service }) => service === 'catalog')
    .map(({ pid }) => pid);
