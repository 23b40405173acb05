/**
 * The shop's SQL models (apps/shop/analytics) on a real DuckDB: gold reconciles with the orders
 * and payments the events describe, a price change gives two product versions and each order
 * line the version of its time, an event that does not fit is held out with its reason, and
 * incremental runs end where a full rebuild does.
 */
import { type Lakehouse, openLakehouse } from '@causeway/lakehouse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AnalyticsPipeline, generation, openAnalyticsPipeline } from './analytics-pipeline.ts';
import { createShopLog, ingestLogged } from './test-support/shop-events.ts';

const day1 = '2026-11-30';
const day2 = '2026-12-01';

/** Two days of a shop: confirmed, cancelled-and-refunded, declined and pending orders, and a price change. */
function twoDays() {
  const log = createShopLog();
  log.product('mug', 'Mug', 1000, `${day1}T08:00:00.000Z`);
  log.product('pen', 'Pen', 500, `${day1}T08:00:01.000Z`);
  log.user('u1', `${day1}T08:30:00.000Z`);
  log.user('u2', `${day1}T08:31:00.000Z`);
  const first = log.order({
    id: 'o1',
    userId: 'u1',
    lines: [['mug', 2, 1000]],
    at: `${day1}T09:00:00.000Z`,
    country: 'DE',
  });
  log.charge('o1', first, `${day1}T09:00:01.000Z`);
  log.confirm('o1', `${day1}T09:00:02.000Z`);
  log.reprice('mug', 1200, `${day1}T12:00:00.000Z`);
  const second = log.order({
    id: 'o2',
    userId: 'u2',
    lines: [
      ['mug', 1, 1200],
      ['pen', 3, 500],
    ],
    at: `${day2}T10:00:00.000Z`,
    country: 'FR',
  });
  log.charge('o2', second, `${day2}T10:00:01.000Z`);
  log.confirm('o2', `${day2}T10:00:02.000Z`);
  // Refused by shipping: charged, then refunded by the compensation.
  const third = log.order({ id: 'o3', userId: 'u1', lines: [['pen', 1, 500]], at: `${day2}T11:00:00.000Z` });
  log.charge('o3', third, `${day2}T11:00:01.000Z`);
  log.refund('o3', third, `${day2}T11:00:02.000Z`);
  log.cancel('o3', 'shipment refused', `${day2}T11:00:03.000Z`);
  log.order({ id: 'o4', userId: 'u2', lines: [['pen', 2, 500]], at: `${day2}T12:00:00.000Z`, country: 'FR' });
  log.decline('o4', `${day2}T12:00:01.000Z`);
  log.cancel('o4', 'payment declined', `${day2}T12:00:02.000Z`);
  log.order({
    id: 'o5',
    userId: 'u1',
    lines: [['mug', 1, 1200]],
    at: `${day2}T13:00:00.000Z`,
    country: 'DE',
  });
  return log;
}

describe('the shop analytics models', () => {
  let lakehouse: Lakehouse;
  let pipeline: AnalyticsPipeline;
  beforeEach(async () => {
    lakehouse = await openLakehouse({ path: ':memory:' });
    pipeline = await openAnalyticsPipeline({
      lakehouse,
      generation: generation(1),
      debounceMs: 10_000,
      onRunFailed: () => {},
    });
  });
  afterEach(async () => {
    await pipeline.stop();
    await lakehouse.close();
  });
  const gold = (sql: string) =>
    lakehouse.all(sql.replaceAll('gold.', '"g1_gold".').replaceAll('silver.', '"g1_silver".'));

  it('sales by day, product and country count confirmed orders at the prices charged, and every test passes', async () => {
    await ingestLogged(pipeline.bronze, twoDays().events);
    const run = await pipeline.runNow();
    expect(run.tests.filter((test) => test.status !== 'pass')).toEqual([]);
    expect(run.status).toBe('success');
    expect(
      await gold('SELECT key, orders, units, revenue_cents FROM gold.sales_by_day ORDER BY key'),
    ).toEqual([
      { key: day1, orders: 1, units: 2, revenue_cents: 2000 },
      { key: day2, orders: 1, units: 4, revenue_cents: 2700 },
    ]);
    expect(
      await gold('SELECT key, orders, units, revenue_cents FROM gold.sales_by_product ORDER BY key'),
    ).toEqual([
      { key: 'mug', orders: 2, units: 3, revenue_cents: 3200 },
      { key: 'pen', orders: 1, units: 3, revenue_cents: 1500 },
    ]);
    expect(await gold('SELECT key, orders, revenue_cents FROM gold.sales_by_country ORDER BY key')).toEqual([
      { key: 'DE', orders: 1, revenue_cents: 2000 },
      { key: 'FR', orders: 1, revenue_cents: 2700 },
    ]);
    expect(
      await gold('SELECT kind, sum(amount_cents) AS net FROM gold.fct_payment GROUP BY kind ORDER BY kind'),
    ).toEqual([
      { kind: 'charge', net: 5200 },
      { kind: 'decline', net: 0 },
      { kind: 'refund', net: -500 },
    ]);
  });

  it('a price change: two product versions, and each line joined to the version of its time', async () => {
    await ingestLogged(pipeline.bronze, twoDays().events);
    await pipeline.runNow();
    expect(
      await gold(`SELECT list_price_cents, valid_from, valid_to, is_current FROM gold.dim_product
                  WHERE product_id = 'mug' ORDER BY version_no`),
    ).toEqual([
      {
        list_price_cents: 1000,
        valid_from: new Date(`${day1}T08:00:00.000Z`),
        valid_to: new Date(`${day1}T12:00:00.000Z`),
        is_current: false,
      },
      {
        list_price_cents: 1200,
        valid_from: new Date(`${day1}T12:00:00.000Z`),
        valid_to: null,
        is_current: true,
      },
    ]);
    expect(
      await gold(`SELECT f.order_id, f.unit_price_cents, d.list_price_cents FROM gold.fct_order_line f
                  JOIN gold.dim_product d USING (product_sk) WHERE f.product_id = 'mug' ORDER BY f.order_id`),
    ).toEqual([
      { order_id: 'o1', unit_price_cents: 1000, list_price_cents: 1000 },
      { order_id: 'o2', unit_price_cents: 1200, list_price_cents: 1200 },
      { order_id: 'o5', unit_price_cents: 1200, list_price_cents: 1200 },
    ]);
  });

  it('an event that does not fit is held out of silver with its reason, and the rest goes on', async () => {
    const log = twoDays();
    log.raw(
      'orders',
      'order-bad',
      'orders.OrderPlaced',
      { orderId: 'bad', userId: 'u1', placedAt: `${day2}T14:00:00.000Z`, totalCents: 'lots', items: [] },
      `${day2}T14:00:00.000Z`,
    );
    await ingestLogged(pipeline.bronze, log.events);
    const run = await pipeline.runNow();
    expect(run.status).toBe('success');
    expect(
      await gold(
        `SELECT data->>'orderId' AS order_id, reject_reason FROM silver.events WHERE reject_reason IS NOT NULL`,
      ),
    ).toEqual([{ order_id: 'bad', reject_reason: 'totalCents is not an integer' }]);
    expect(await gold(`SELECT count(*) AS n FROM silver.orders WHERE order_id = 'bad'`)).toEqual([{ n: 0 }]);
    expect(await gold('SELECT sum(revenue_cents) AS revenue FROM gold.sales_by_day')).toEqual([
      { revenue: 4700 },
    ]);
  });

  it('runs as events arrive end where one full rebuild does, late products and all', async () => {
    const events = twoDays().events;
    // Orders before the catalog: the lines wait on the unknown product until it arrives.
    const orderFirst = [
      ...events.filter((event) => event.service !== 'catalog'),
      ...events.filter((event) => event.service === 'catalog'),
    ];
    for (let start = 0; start < orderFirst.length; start += 7) {
      await ingestLogged(pipeline.bronze, orderFirst.slice(start, start + 7));
      expect((await pipeline.runNow()).models.filter((model) => model.status !== 'success')).toEqual([]);
    }
    const tables = [
      'fct_order_line',
      'fct_payment',
      'dim_product',
      'dim_customer',
      'sales_by_day',
      'sales_by_product',
      'sales_by_country',
    ];
    const live = await Promise.all(tables.map((table) => gold(everything(table))));
    expect(live[0]!.filter((line) => line.product_sk === '-1')).toEqual([]);
    await pipeline.runner.run({ fullRefresh: true });
    const rebuilt = await Promise.all(tables.map((table) => gold(everything(table))));
    expect(live).toEqual(rebuilt);
  });
});

/** A gold table's rows without the bookkeeping columns that say when a row was touched, not what it says. */
function everything(table: string): string {
  const bookkeeping: Record<string, string> = {
    fct_order_line: 'order_ingest_seq',
    fct_payment: 'ingest_seq',
  };
  const column = bookkeeping[table];
  return `SELECT * ${column ? `EXCLUDE (${column})` : ''} FROM gold.${table} ORDER BY ALL`;
}
