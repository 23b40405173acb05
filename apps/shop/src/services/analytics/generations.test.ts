/**
 * Kappa replay on a real DuckDB: the next generation is built from the logs' beginning through
 * the same ingestion and models as live, answers come from the live one until the swap, and the
 * rebuilt gold equals the live gold table for table. The sources are in-memory logs read through
 * the same page-by-page ingestion the event-log source uses (the shop rows test reads real ones).
 */
import { type Lakehouse, openLakehouse } from '@causeway/lakehouse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addGeneration, readGenerations } from './generation-records.ts';
import { type Generations, startGenerations } from './generations.ts';
import { aShop, aShopConfirmedRevenue, logIngestion, untilSettled } from './test-support/log-ingestion.ts';
import type { LoggedEvent } from './test-support/shop-events.ts';

const goldTables = [
  'fct_order_line',
  'fct_payment',
  'dim_date',
  'dim_product',
  'dim_customer',
  'sales_by_day',
  'sales_by_product',
  'sales_by_country',
];

describe('analytics generations and Kappa replay', () => {
  let lakehouse: Lakehouse;
  let generations: Generations | null;
  beforeEach(async () => {
    lakehouse = await openLakehouse({ path: ':memory:' });
    generations = null;
  });
  afterEach(async () => {
    await generations?.stop();
    await lakehouse.close();
  });
  const start = (events: readonly LoggedEvent[]) =>
    startGenerations({
      lakehouse,
      walAvailable: false,
      startIngestion: logIngestion(events),
      catchUpTimeoutMs: 30_000,
      debounceMs: 20,
      warn: (message) => {
        throw new Error(message);
      },
    });
  const goldOf = (generation: number) =>
    Promise.all(
      goldTables.map((table) => lakehouse.all(`SELECT * FROM "g${generation}_gold"."${table}" ORDER BY ALL`)),
    );
  const settled = () => untilSettled(() => generations!.live(), aShopConfirmedRevenue);

  it('rebuilds every gold table from the logs into the next generation, equal to live, then swaps', async () => {
    const log = aShop();
    generations = await start(log.events);
    await settled();
    const live = await goldOf(1);

    const replaying = generations.replay();
    expect(generations.live().generation.number).toBe(1); // answers come from the old layers meanwhile
    const result = await replaying;

    expect(result).toMatchObject({ generation: 2, replaced: 1, run: { status: 'success' } });
    expect(result.changes).toBe(log.events.length);
    expect(generations.live().generation.number).toBe(2);
    const rebuilt = await goldOf(2);
    goldTables.forEach((table, index) => {
      // Bookkeeping columns count arrivals, which differ; every other column must be equal.
      const strip = (rows: Record<string, unknown>[]) =>
        rows.map(({ order_ingest_seq: _order, ingest_seq: _seq, ...rest }) => rest);
      expect(strip(rebuilt[index]!), table).toEqual(strip(live[index]!));
    });
    expect(await readGenerations(lakehouse)).toEqual([
      { generation: 1, ingest: 'event-log', state: 'retired' },
      { generation: 2, ingest: 'event-log', state: 'live' },
    ]);
    expect(
      await lakehouse.all(
        "SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, 'g1_')",
      ),
    ).toEqual([]);
    await expect(generations.replay()).resolves.toMatchObject({ generation: 3, replaced: 2 });
  });

  it('after a crash during a replay, the half-built generation is thrown away and the live one goes on', async () => {
    const log = aShop();
    generations = await start(log.events);
    await settled();
    await generations.stop();
    await addGeneration(lakehouse, { generation: 2, ingest: 'event-log', state: 'building' });
    await lakehouse.exclusive((session) =>
      session.run('CREATE SCHEMA g2_bronze; CREATE TABLE g2_bronze.leftover (x INTEGER)'),
    );

    generations = await start(log.events);
    expect(generations.live().generation.number).toBe(1);
    expect((await readGenerations(lakehouse)).map((record) => record.state)).toEqual(['live', 'retired']);
    expect(
      await lakehouse.all(
        "SELECT schema_name FROM information_schema.schemata WHERE starts_with(schema_name, 'g2_')",
      ),
    ).toEqual([]);
    await expect(generations.replay()).resolves.toMatchObject({ generation: 3, replaced: 1 });
  });
});
