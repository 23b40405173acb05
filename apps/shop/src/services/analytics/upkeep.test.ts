/**
 * The analytics service's periodic work on a real DuckDB: the Lambda check rebuilds every model
 * in full and finds no drift from the incremental gold (and finds it when gold is wrong), and the
 * Parquet exports read back with `read_parquet` equal gold, table for table.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lakehouse, openLakehouse } from '@causeway/lakehouse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Generations, startGenerations } from './generations.ts';
import { readLambdaChecks } from './lambda-check.ts';
import { aShop, aShopConfirmedRevenue, logIngestion, untilSettled } from './test-support/log-ingestion.ts';
import { startUpkeep, type Upkeep } from './upkeep.ts';

describe('analytics upkeep: the Lambda check and the Parquet exports', () => {
  let lakehouse: Lakehouse;
  let generations: Generations;
  let upkeep: Upkeep;
  let directory: string;
  const warnings: string[] = [];

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'analytics-upkeep-'));
    lakehouse = await openLakehouse({ path: ':memory:' });
    generations = await startGenerations({
      lakehouse,
      walAvailable: false,
      startIngestion: logIngestion(aShop().events),
      catchUpTimeoutMs: 30_000,
      debounceMs: 20,
      warn: (message) => {
        throw new Error(message);
      },
    });
    warnings.length = 0;
    upkeep = startUpkeep({
      live: () => generations.live(),
      exportDirectory: join(directory, 'exports'),
      exportEveryMs: 0,
      recomputeEveryMs: 0,
      warn: (message) => warnings.push(message),
    });
    await untilSettled(() => generations.live(), aShopConfirmedRevenue);
  });

  afterEach(async () => {
    upkeep.stop();
    await generations.stop();
    await lakehouse.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('recomputes gold in full from the same bronze rows and finds no drift, then finds a tampered row', async () => {
    const clean = await upkeep.checkNow();
    expect(clean).toMatchObject({ status: 'agrees', driftRows: 0, error: null });
    expect(clean.tables.map((table) => table.table).sort()).toEqual([
      'dim_customer',
      'dim_date',
      'dim_product',
      'fct_order_line',
      'fct_payment',
      'product_sales_rank',
      'sales_by_country',
      'sales_by_day',
      'sales_by_product',
    ]);
    for (const table of clean.tables) expect(table.recomputedRows, table.table).toBe(table.rows);
    expect(clean.tables.find((table) => table.table === 'fct_order_line')?.rows).toBe(12);
    expect(warnings).toEqual([]);

    // Incremental gold that went wrong: one line's quantity. Nothing rebuilds fct_order_line's
    // untouched rows incrementally, so only the full recompute can see it.
    const line = generations.live().gold('fct_order_line');
    await lakehouse.transaction((session) =>
      session.run(`UPDATE ${line} SET quantity = quantity + 1 WHERE order_id = 'o1'`),
    );
    const drifted = await upkeep.checkNow();
    expect(drifted.status).toBe('drift');
    const lineDrift = drifted.tables.find((table) => table.table === 'fct_order_line');
    expect(lineDrift).toMatchObject({ missing: 1, extra: 1 });
    // The differing rows themselves: the recompute's line, and the tampered one a unit more.
    const [recomputed] = lineDrift!.sample!.missing as Array<{ order_id: string; quantity: number }>;
    const [tampered] = lineDrift!.sample!.extra as Array<{ order_id: string; quantity: number }>;
    expect(recomputed).toMatchObject({ order_id: 'o1' });
    expect(tampered).toMatchObject({ order_id: 'o1', quantity: recomputed!.quantity + 1 });
    expect(drifted.tables.find((table) => table.table === 'dim_date')!.sample).toBeUndefined();
    expect(warnings.join('\n')).toContain('fct_order_line: 1 missing, 1 extra');
    expect((await readLambdaChecks(lakehouse, 10)).map((check) => check.status)).toEqual(['drift', 'agrees']);
    // The recompute's schemas are gone afterwards.
    expect(
      await lakehouse.all(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '%lambda%'",
      ),
    ).toEqual([]);
  });

  it('exports every gold table as Parquet that reads back equal to gold, and bronze by source and date', async () => {
    const exported = await upkeep.exportNow();
    const pipeline = generations.live();
    expect(exported.gold.map((table) => table.table).sort()).toContain('fct_order_line');
    expect(exported.gold).toHaveLength(9);
    for (const { table, file, rows } of exported.gold) {
      const gold = pipeline.gold(table);
      const parquet = `read_parquet('${file}')`;
      const [compared] = await lakehouse.all<{ rows: number; missing: number; extra: number }>(
        `SELECT (SELECT count(*) FROM ${parquet}) AS rows,
           (SELECT count(*) FROM (SELECT * FROM ${gold} EXCEPT ALL SELECT * FROM ${parquet})) AS missing,
           (SELECT count(*) FROM (SELECT * FROM ${parquet} EXCEPT ALL SELECT * FROM ${gold})) AS extra`,
      );
      const [inGold] = await lakehouse.all<{ rows: number }>(`SELECT count(*) AS rows FROM ${gold}`);
      expect(compared, table).toEqual({ rows: inGold!.rows, missing: 0, extra: 0 });
      expect(rows, table).toBe(inGold!.rows);
    }

    const bronzeDirectory = join(directory, 'exports', 'bronze');
    expect((await readdir(bronzeDirectory)).sort()).toEqual([
      'source=catalog',
      'source=orders',
      'source=payments',
      'source=users',
    ]);
    const [bronze] = await lakehouse.all<{ rows: number; sources: number }>(
      `SELECT count(*) AS rows, count(DISTINCT source) AS sources
       FROM read_parquet('${bronzeDirectory}/**/*.parquet', hive_partitioning = true)`,
    );
    expect(bronze).toEqual({ rows: aShop().events.length, sources: 4 });
    expect(exported.bronze.rows).toBe(aShop().events.length);
  });
});
