/**
 * The analytics service under SIGKILL: while orders of every payment outcome are placed at
 * concurrency 3, the analytics process is killed 6 times, each time within 0.4 s of its freshness
 * showing that it committed a bronze batch (changes still arriving), and the supervisor restarts
 * it. Once the orders have ended and the sources are caught up:
 * - gold reconciles: sales by day, product and country equal the orders service's own log folded
 *   with its domain code (analytics-rows.ts);
 * - bronze holds each change once: no change id twice, and every event of every source's log
 *   (users, catalog, inventory, orders, payments, shipping) exactly once, read from the DuckDB file
 *   after the shop stopped.
 * On embedded defaults (event logs pulled page by page) and on PostgreSQL + NATS (each service
 * database's WAL when wal_level = logical, redelivered after each kill from the slot's last
 * acknowledgement).
 */
import { describeWithService, serviceUrl as externalServiceUrl } from '@causeway/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopClient } from '../load/shop-client.ts';
import { analyticsSources } from '../services/analytics/analytics-sources.ts';
import {
  type AnalyticsKill,
  killAnalyticsWhileIngesting,
  readBronze,
  serviceLog,
  startOrderLoad,
  stopSupervisor,
  waitForQuietBronze,
} from './analytics-kill-support.ts';
import { expectedSales, ordersOf } from './analytics-rows.ts';
import { countBy } from './chaos-monkey.ts';
import { postgresNatsShop } from './postgres-nats-shop.ts';
import { type RunningShop, startShop, until } from './running-shop.ts';
import { shopApi } from './shop-api.ts';

const kills = 6;
const concurrency = 3;

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field by the assertions
type Json = any;

function describeAnalyticsKill(
  title: string,
  options: { env: () => Record<string, string>; ingest: () => Promise<string> },
) {
  describe(title, () => {
    let shop: RunningShop;
    beforeAll(async () => {
      shop = await startShop(options.env());
    }, 120_000);
    afterAll(async () => shop?.stop());

    it(`SIGKILL of analytics ${kills} times while it ingests under load: bronze holds each change once and gold reconciles`, async () => {
      const client = new ShopClient(shop.api, { attempts: 40, initialMs: 100, maxMs: 2_000 });
      const api = shopApi(() => shop.api);
      const user = await client.post<Json>('/users', { name: 'Kill Analytics', email: 'kill@example.com' });
      const productIds: string[] = [];
      for (const [index, priceCents] of [325, 480, 1_150].entries()) {
        const product = await client.post<Json>('/products', {
          sku: `KILL-${index}`,
          name: `Kill ${index}`,
          priceCents,
        });
        await client.post(`/inventory/${product.body.id}/restock`, { quantity: 100_000 });
        productIds.push(product.body.id);
      }

      const load = startOrderLoad(client, { userId: user.body.id, productIds, concurrency });
      let killed: AnalyticsKill[] = [];
      let placed: string[] = [];
      try {
        killed = await killAnalyticsWhileIngesting(shop.api, kills);
      } finally {
        placed = await load.stop();
      }
      console.info(`[analytics kill] ${placed.length} orders placed; kills`, JSON.stringify(killed));
      expect(killed).toHaveLength(kills);
      expect(killed.every((kill) => kill.nextPid !== kill.pid)).toBe(true);
      expect(new Set(killed.flatMap((kill) => [kill.pid, kill.nextPid])).size).toBe(kills + 1);

      // Every order ends (an order in flight when the load stopped, too).
      const ended = await until(
        async () => {
          const answers = await Promise.all(placed.map((orderId) => api('GET', `/orders/${orderId}`)));
          return answers.filter((answer) => answer.status !== 200 || answer.body.status === 'PENDING');
        },
        (pending) => pending.length === 0,
        { timeoutMs: 90_000, everyMs: 1_000 },
      );
      expect(
        ended.map((answer) => answer.body?.orderId ?? answer.status),
        'orders still PENDING',
      ).toEqual([]);

      // (a) Gold reconciles with the orders service's own log, once the models covered it.
      const ordersNow = async () => ordersOf(await serviceLog(shop.api, 'orders', { data: true }));
      const orders = await ordersNow();
      expect(orders.map((order) => order.orderId)).toEqual(expect.arrayContaining(placed));
      console.info('[analytics kill] orders', JSON.stringify(countBy(orders, (order) => order.status)));
      for (const groupBy of ['day', 'product', 'country'] as const) {
        const { expected, answer } = await until(
          async () => ({
            expected: expectedSales(await ordersNow(), groupBy),
            answer: await api('GET', `/analytics/sales?groupBy=${groupBy}`),
          }),
          (both) => JSON.stringify(both.answer.body?.rows) === JSON.stringify(both.expected),
          { timeoutMs: 120_000, everyMs: 1_000 },
        );
        expect(answer.body.rows, `sales by ${groupBy}`).toEqual(expected);
      }

      // (b) Every source's log as it is now; bronze holds each of its events once when it has stopped.
      const logs = new Map<string, string[]>();
      for (const source of analyticsSources)
        logs.set(
          source,
          (await serviceLog(shop.api, source)).map((event) => event.id as string),
        );
      await waitForQuietBronze(shop.api, 3_000);
      await stopSupervisor(shop.dataDir);
      const bronze = await readBronze(shop.dataDir);
      console.info(
        `[analytics kill] bronze g${bronze.generation} (${bronze.ingest}): ${bronze.changes} changes; log events`,
        JSON.stringify(Object.fromEntries([...logs].map(([source, ids]) => [source, ids.length]))),
      );
      expect(bronze.ingest).toBe(await options.ingest());
      expect(bronze.repeatedChanges, 'change ids bronze holds more than once').toEqual([]);
      const wrong: string[] = [];
      for (const [source, ids] of logs) {
        const copies = bronze.eventCopies.get(source) ?? new Map<string, number>();
        for (const id of ids)
          if (copies.get(id) !== 1) wrong.push(`${source} ${id}: ${copies.get(id) ?? 0} copies`);
        for (const [id, count] of copies) if (count !== 1) wrong.push(`${source} ${id}: ${count} copies`);
      }
      expect(wrong.slice(0, 20), `${wrong.length} events not held exactly once`).toEqual([]);
      expect(logs.get('orders')!.length).toBeGreaterThan(placed.length);
    }, 300_000);
  });
}

describeAnalyticsKill('analytics under SIGKILL on embedded defaults', {
  env: () => ({}),
  ingest: async () => 'event-log',
});

const backends = postgresNatsShop('analyticskill');
describeWithService('postgres', 'analytics under SIGKILL on PostgreSQL', () => {
  describeWithService('nats', 'and NATS', () => {
    afterAll(() => backends.remove());
    describeAnalyticsKill('the shop on PostgreSQL + NATS', {
      env: backends.env,
      // The WAL when the server has logical decoding, the event logs otherwise.
      ingest: async () => ((await walLevel()) === 'logical' ? 'wal' : 'event-log'),
    });
  });
});

async function walLevel(): Promise<string> {
  const client = new pg.Client({ connectionString: externalServiceUrl('postgres') });
  await client.connect();
  try {
    return (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level;
  } finally {
    await client.end();
  }
}
