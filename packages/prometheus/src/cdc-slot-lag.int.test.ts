/**
 * On PostgreSQL, the WAL a logical slot of the service's database holds back: it grows with writes
 * its reader has not confirmed, and only that database's slots are reported.
 */
import { createPostgresStore } from '@causeway/postgres';
import { createTestDatabase, describeWithService, type TestDatabase } from '@causeway/testing';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerCausewayMetrics } from './index.ts';

describeWithService('postgres', 'replication slot lag on PostgreSQL', () => {
  let database: TestDatabase;
  const slot = `metrics_lag_${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    database = await createTestDatabase('metrics_slot');
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1', [
      slot,
    ]);
    await admin.end();
    await database?.drop();
  });

  it("reports the WAL a slot of the service's database holds back, growing with unconfirmed writes", async () => {
    const store = await createPostgresStore({ connectionString: database.url, schema: 'metrics' });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const metrics = new Registry();
      registerCausewayMetrics({ registry: metrics, store });
      const series = `causeway_cdc_slot_lag_bytes{slot="${slot}",active="false"}`;
      const lag = async () => {
        const line = (await metrics.metrics()).split('\n').find((each) => each.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      expect(await lag()).toBeUndefined();
      await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
      const before = await lag();
      expect(before).toBeGreaterThanOrEqual(0);
      await client.query('CREATE TABLE filler (n int)');
      await client.query('INSERT INTO filler SELECT generate_series(1, 10000)');
      expect(await lag()).toBeGreaterThan(before! + 100_000);
    } finally {
      await client.end();
      await store.close();
    }
  });
});
