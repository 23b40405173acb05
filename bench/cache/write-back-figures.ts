/**
 * Write-back beside direct writes: the same stream of increments to 100 counters, acknowledged by
 * a write-back (journal by group commit, flushed every second in batches) and by one upsert
 * transaction each. After the write-back's window its pending writes are flushed and the table is
 * checked against the acknowledged count, so a figure that lost writes cannot pass for fast.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWriteBack, type Store } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { createBenchDatabase } from '../store/postgres-bench-database.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { measureThroughput } from '../support/measure.ts';
import { type Figure, figure } from '../support/report.ts';

const upsert = (table: string) =>
  `INSERT INTO ${table} (key, n) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET n = ${table}.n + excluded.n`;

async function total(store: Store, table: string): Promise<number> {
  const [row] = await store.transaction((tx) =>
    tx.query<{ n: number | string | null }>(`SELECT SUM(n) AS n FROM ${table}`),
  );
  return Number(row?.n ?? 0);
}

async function figuresOn(backend: string, store: Store, options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const concurrency of [8, 64]) {
    const direct = `bench_direct_${concurrency}`;
    const backed = `bench_backed_${concurrency}`;
    await store.transaction(async (tx) => {
      for (const table of [direct, backed])
        await tx.execute(`CREATE TABLE ${table} (key TEXT PRIMARY KEY, n BIGINT NOT NULL)`);
    });
    const point = { ...options, concurrency };
    let counter = 0;
    const raw = await measureThroughput(
      async () => {
        const key = `k${counter++ % 100}`;
        await store.transaction((tx) => tx.execute(upsert(direct), [key, 1]));
        return 1;
      },
      { ...point, label: `${backend} direct upsert c${concurrency}` },
    );
    const writeBack = createWriteBack<number>({
      store,
      name: `bench-${concurrency}`,
      merge: (pending, next) => pending + next,
      async flush(tx, entries) {
        for (const { key, value } of entries) await tx.execute(upsert(backed), [key, value]);
      },
    });
    await writeBack.start();
    let acknowledged = 0;
    const value = await measureThroughput(
      async () => {
        await writeBack.write(`k${counter++ % 100}`, 1);
        acknowledged += 1;
        return 1;
      },
      { ...point, label: `${backend} write-back c${concurrency}` },
    );
    await writeBack.close();
    const flushed = await total(store, backed);
    if (flushed !== acknowledged)
      throw new Error(
        `write-back on ${backend}: ${acknowledged} writes acknowledged, ${flushed} in the table`,
      );
    figures.push(
      figure({
        name: `cache.write_back.${backend}.c${concurrency}`,
        value,
        unit: 'writes/s',
        baseline: raw,
        baselineLabel: `one upsert transaction per write, 100 keys, ${concurrency} loops`,
      }),
    );
  }
  return figures;
}

export async function writeBackFigures(options: BenchOptions): Promise<Figure[]> {
  const database = await createBenchDatabase();
  const postgres = await createPostgresStore({ connectionString: database.url, schema: 'bench' });
  const directory = mkdtempSync(join(tmpdir(), 'causeway-bench-cache-'));
  const sqlite = await createSqliteStore({ filename: join(directory, 'bench.db') });
  try {
    return [
      ...(await figuresOn('postgres', postgres, options)),
      ...(await figuresOn('sqlite', sqlite, options)),
    ];
  } finally {
    await postgres.close();
    await sqlite.close();
    await database.drop();
    rmSync(directory, { recursive: true, force: true });
  }
}
