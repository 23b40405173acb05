import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreFailureError } from '@causeway/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBronze } from '../bronze/bronze.ts';
import { changeAt, changesBetween } from '../bronze/test-support/changes.ts';
import { type Lakehouse, openLakehouse } from '../lakehouse.ts';
import { exportBronze } from './export-bronze.ts';
import { exportTable } from './export-table.ts';

describe('Parquet exports', () => {
  let lakehouse: Lakehouse;
  let directory: string;
  beforeEach(async () => {
    lakehouse = await openLakehouse({ path: ':memory:' });
    directory = mkdtempSync(join(tmpdir(), 'lakehouse-export-'));
  });
  afterEach(async () => {
    await lakehouse.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Rows in one relation and not the other, both ways (multiset): zero means equal row for row. */
  async function differences(left: string, right: string): Promise<number> {
    const [row] = await lakehouse.all<{ n: number }>(
      `SELECT (SELECT count(*) FROM (FROM ${left} EXCEPT ALL FROM ${right}))
            + (SELECT count(*) FROM (FROM ${right} EXCEPT ALL FROM ${left})) AS n`,
    );
    return row!.n;
  }

  async function ingestTwoSources(schema = 'bronze') {
    const bronze = createBronze({ lakehouse, schema });
    await bronze.ingest({ source: 'orders', changes: changesBetween(1n, 40n), position: 40n });
    const nested = changeAt(2n ** 63n + 7n, {
      source: 'payments',
      op: 'u',
      after: { deep: { list: [1, { a: null }] } },
    });
    await bronze.ingest({ source: 'payments', changes: [nested], position: 2n ** 63n + 7n });
  }

  it('exports bronze partitioned by source and ingestion date, equal to bronze row for row', async () => {
    await ingestTwoSources();
    // Two ingestion dates: move the first orders back a day.
    await lakehouse.transaction((session) =>
      session.run(
        `UPDATE bronze.changes SET ingested_at = ingested_at - INTERVAL 1 DAY WHERE position <= 10`,
      ),
    );
    const target = join(directory, 'bronze');
    const exported = await exportBronze({ lakehouse, directory: target });
    expect(exported.rows).toBe(41);
    expect(exported.partitions.map((partition) => [partition.source, partition.rows])).toEqual([
      ['orders', 10],
      ['orders', 30],
      ['payments', 1],
    ]);
    expect(readdirSync(target).sort()).toEqual(['source=orders', 'source=payments']);
    expect(readdirSync(join(target, 'source=orders'))).toHaveLength(2);
    // Hive partitioning gives `source` back as the last column: compare column by column, by name.
    const columns = (
      await lakehouse.all<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns
      WHERE table_schema = 'bronze' AND table_name = 'changes' ORDER BY ordinal_position`)
    ).map((row) => row.name);
    const list = columns.map((column) => `"${column}"`).join(', ');
    const parquet = `(SELECT ${list} FROM read_parquet('${target}/**/*.parquet', hive_partitioning = true))`;
    const bronze = `(SELECT ${list} FROM bronze.changes)`;
    expect(await differences(parquet, bronze)).toBe(0);
    const [types] = await lakehouse.all(
      `SELECT typeof(position) AS position, typeof(after) AS after, typeof(committed_at) AS committed FROM ${parquet} LIMIT 1`,
    );
    expect(types).toEqual({ position: 'UBIGINT', after: 'JSON', committed: 'TIMESTAMP WITH TIME ZONE' });
  });

  it('replaces what an earlier export wrote and leaves no temporary directories', async () => {
    await ingestTwoSources();
    const shadow = createBronze({ lakehouse, schema: 'g2_bronze' });
    await shadow.ingest({ source: 'catalog', changes: changesBetween(1n, 3n, 'catalog'), position: 3n });
    const target = join(directory, 'bronze');
    await exportBronze({ lakehouse, directory: target });
    const again = await exportBronze({ lakehouse, directory: target, schema: 'g2_bronze' });
    expect(again.rows).toBe(3);
    expect(readdirSync(target)).toEqual(['source=catalog']);
    expect(readdirSync(directory)).toEqual(['bronze']);
  });

  it('exports a table to one Parquet file that reads back equal to the table', async () => {
    await lakehouse.exclusive(async (session) => {
      await session.run('CREATE SCHEMA gold');
      await session.run(`CREATE TABLE gold.sales AS SELECT
          range AS id, (range * 2^62)::HUGEINT AS big, (range / 7)::DECIMAL(18, 4) AS amount,
          'it''s ' || range AS label, [range, range + 1] AS list, {'a': range, 'b': 'x'} AS struct,
          TIMESTAMPTZ '2026-01-02 03:04:05.123456+00' + to_days(range::INTEGER) AS at,
          CASE WHEN range % 3 = 0 THEN NULL ELSE range END AS sometimes
        FROM range(500)`);
    });
    const file = join(directory, 'out', "sales 'gold'.parquet");
    const exported = await exportTable({ lakehouse, relation: 'gold.sales', file });
    expect(exported).toEqual({ file, rows: 500 });
    expect(await differences(`read_parquet('${file.replaceAll("'", "''")}')`, 'gold.sales')).toBe(0);
    expect(readdirSync(join(directory, 'out'))).toEqual([`sales 'gold'.parquet`]);
  });

  it('leaves the earlier file whole when an export fails', async () => {
    const file = join(directory, 'sales.parquet');
    writeFileSync(file, 'earlier export');
    await expect(exportTable({ lakehouse, relation: 'gold.missing', file })).rejects.toBeInstanceOf(
      StoreFailureError,
    );
    expect(readdirSync(directory)).toEqual(['sales.parquet']);
    expect(existsSync(file)).toBe(true);
    await expect(exportTable({ lakehouse, relation: 'x; DROP TABLE y', file })).rejects.toThrow(
      'plain SQL name',
    );
  });
});
