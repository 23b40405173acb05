/**
 * The WAL source against a real PostgreSQL and a real DuckDB: rows that existed before the slot
 * arrive by the initial copy (its chunks share one position), then every commit, back-to-back
 * single-row commits from several connections included, each exactly once; a restart resumes
 * from the slot without a duplicate.
 */
import { randomBytes } from 'node:crypto';
import { createBronze, type Lakehouse, openLakehouse } from '@causeway/lakehouse';
import {
  createTestDatabase,
  describeRequiring,
  isPostgresReachable,
  serviceUrl,
  type TestDatabase,
} from '@causeway/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropSlot } from './ingestion.ts';
import { startWalSource } from './wal-source.ts';

async function logicalDecodingMissing(): Promise<string | null> {
  if (!(await isPostgresReachable())) return `PostgreSQL not reachable at ${serviceUrl('postgres')}`;
  const client = new pg.Client({ connectionString: serviceUrl('postgres') });
  await client.connect();
  try {
    const level = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
    return level === 'logical'
      ? null
      : `PostgreSQL runs with wal_level=${level}; the WAL source needs logical (.ci/run sets it)`;
  } finally {
    await client.end();
  }
}

describeRequiring('analytics WAL source', await logicalDecodingMissing(), () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let lakehouse: Lakehouse;
  const slot = `cw_analytics_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase('analytics_wal');
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    await pool.query('CREATE SCHEMA shop');
    await pool.query(
      'CREATE TABLE shop.events (event_id text PRIMARY KEY, type text NOT NULL, data jsonb NOT NULL)',
    );
    lakehouse = await openLakehouse({ path: ':memory:' });
  });
  afterAll(async () => {
    await lakehouse?.close();
    await pool?.end();
    await dropSlot({ connectionString: database.url, slot }).catch(() => {});
    await database?.drop();
  });

  const insert = (id: string) =>
    pool.query('INSERT INTO shop.events (event_id, type, data) VALUES ($1, $2, $3)', [
      id,
      'orders.OrderPlaced',
      { id },
    ]);

  it('takes every row exactly once: the initial copy in chunks, back-to-back commits, and across a restart', async () => {
    for (let n = 0; n < 30; n++) await insert(`before-${n}`);
    const bronze = createBronze({ lakehouse });
    const start = () =>
      startWalSource({
        service: 'orders',
        connectionString: database.url,
        slot,
        bronze,
        snapshotChunkSize: 7, // several chunks at the slot's one consistent point
        onIngested: () => {},
        onBehind: () => {},
        onError: (_source, error) => {
          throw error;
        },
      });
    let source = await start();
    // Four connections committing single rows as fast as they can: commit records back to back.
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let n = 0; n < 50; n++) await insert(`live-${lane}-${n}`);
      }),
    );
    await source.stop();
    for (let n = 0; n < 10; n++) await insert(`after-restart-${n}`);
    source = await start();
    const expected = 30 + 200 + 10;
    const deadline = Date.now() + 30_000;
    let rows: Array<{ id: string; copies: number }> = [];
    while (Date.now() < deadline) {
      rows = await lakehouse.all(
        `SELECT after->>'event_id' AS id, count(*) AS copies FROM ${bronze.tables.changes} GROUP BY ALL`,
      );
      if (rows.length >= expected) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await source.stop();
    expect(rows.length).toBe(expected);
    expect(rows.filter((row) => row.copies !== 1)).toEqual([]);
    const ops = await lakehouse.all(
      `SELECT op, count(*) AS n FROM ${bronze.tables.changes} GROUP BY op ORDER BY op`,
    );
    expect(ops).toEqual([
      { op: 'c', n: 210 },
      { op: 'r', n: 30 },
    ]);
  });
});
