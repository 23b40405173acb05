import type { OutboxMessage } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import type { Lakehouse } from '../lakehouse.ts';
import { execute, useTestLakehouse } from '../test-support/open-test-lakehouse.ts';
import { commandIdOf, createReverseEtl, type ReverseEtlOptions } from './reverse-etl.ts';
import { defineReverseSync } from './reverse-sync.ts';

const open = useTestLakehouse();

interface RankRow {
  product_id: string;
  sales_rank: number;
  [column: string]: unknown;
}

const salesRank = (schedule: ReverseEtlOptions['syncs'][number]['schedule'] = { afterModelRun: true }) =>
  defineReverseSync<RankRow>({
    name: 'sales-rank',
    query: (relation) => `SELECT product_id, sales_rank FROM ${relation('product_sales_rank')}`,
    key: 'product_id',
    schedule,
    command: ({ key, row, run }) => ({
      destination: 'catalog.commands',
      type: 'catalog.SetSalesRank',
      data: { productId: key, salesRank: row?.sales_rank ?? null, asOf: run.asOf },
    }),
  });

async function rankedLakehouse(): Promise<Lakehouse> {
  const lakehouse = await open();
  await execute(
    lakehouse,
    'CREATE SCHEMA gold',
    `CREATE TABLE gold.product_sales_rank AS SELECT * FROM (VALUES ('p1', 1), ('p2', 2), ('p3', 3)) AS r(product_id, sales_rank)`,
  );
  return lakehouse;
}

function syncing(lakehouse: Lakehouse, overrides: Partial<ReverseEtlOptions> = {}) {
  const delivered: OutboxMessage[] = [];
  const reverseEtl = createReverseEtl({
    lakehouse,
    syncs: [salesRank()],
    relation: (model) => `gold.${model}`,
    deliver: async (messages) => {
      delivered.push(...messages);
    },
    ...overrides,
  });
  return { reverseEtl, delivered };
}

const ranksOf = (messages: readonly OutboxMessage[]) =>
  Object.fromEntries(
    messages.map((message) => {
      const data = (message.payload as { data: { productId: string; salesRank: number | null } }).data;
      return [data.productId, data.salesRank];
    }),
  );

describe('reverse ETL', () => {
  it('pushes every key once, then only the keys whose row changed, appeared or left', async () => {
    const lakehouse = await rankedLakehouse();
    const { reverseEtl, delivered } = syncing(lakehouse);

    const first = await reverseEtl.run('sales-rank');
    expect(first).toMatchObject({ status: 'success', rows: 3, pushed: 3, replayOf: null });
    expect(ranksOf(delivered)).toEqual({ p1: 1, p2: 2, p3: 3 });

    const quiet = await reverseEtl.run('sales-rank');
    expect(quiet).toMatchObject({ status: 'success', rows: 3, pushed: 0 });
    expect(delivered).toHaveLength(3);

    await execute(
      lakehouse,
      `UPDATE gold.product_sales_rank SET sales_rank = 3 - sales_rank + 1 WHERE product_id IN ('p1', 'p3')`,
      `DELETE FROM gold.product_sales_rank WHERE product_id = 'p2'`,
      `INSERT INTO gold.product_sales_rank VALUES ('p4', 2)`,
    );
    delivered.length = 0;
    const changed = await reverseEtl.run('sales-rank');
    expect(changed).toMatchObject({ rows: 3, pushed: 4 });
    expect(ranksOf(delivered)).toEqual({ p1: 3, p2: null, p3: 1, p4: 2 });

    // A key that left is pushed once as null, not again on every run.
    delivered.length = 0;
    expect(await reverseEtl.run('sales-rank')).toMatchObject({ pushed: 0 });
    expect(delivered).toEqual([]);
  });

  it('gives each command an id of (sync, key, run), the run as correlation, and the run start as asOf', async () => {
    const lakehouse = await rankedLakehouse();
    const { reverseEtl, delivered } = syncing(lakehouse);
    const run = await reverseEtl.run('sales-rank', { runId: 'run-1' });

    for (const message of delivered) {
      const payload = message.payload as {
        id: string;
        correlationId: string;
        data: { productId: string; asOf: string };
      };
      expect(message.id).toBe(commandIdOf('sales-rank', payload.data.productId, 'run-1'));
      expect(payload.id).toBe(message.id);
      expect(payload.correlationId).toBe('run-1');
      expect(payload.data.asOf).toBe(run.startedAt);
      expect(message.orderingKey).toBe(`reverse-etl:sales-rank:${payload.data.productId}`);
    }
    expect(new Set(delivered.map((message) => message.id)).size).toBe(3);
    expect(commandIdOf('sales-rank', 'p1', 'run-2')).not.toBe(commandIdOf('sales-rank', 'p1', 'run-1'));
  });

  it('loses nothing when delivery fails: the run is logged as failed and the next run pushes the same rows', async () => {
    const lakehouse = await rankedLakehouse();
    let refuse = true;
    const delivered: OutboxMessage[] = [];
    const { reverseEtl } = syncing(lakehouse, {
      deliver: async (messages) => {
        if (refuse) throw new Error('the outbox is out of reach');
        delivered.push(...messages);
      },
    });

    await expect(reverseEtl.run('sales-rank', { runId: 'failing' })).rejects.toThrow('out of reach');
    expect((await reverseEtl.runs())[0]).toMatchObject({
      runId: 'failing',
      status: 'error',
      error: 'the outbox is out of reach',
    });

    refuse = false;
    expect(await reverseEtl.run('sales-rank')).toMatchObject({ status: 'success', pushed: 3 });
    expect(ranksOf(delivered)).toEqual({ p1: 1, p2: 2, p3: 3 });
  });

  it('replays a run: its commands, data and asOf again, under ids of the replay, logged as a run of its own', async () => {
    const lakehouse = await rankedLakehouse();
    const { reverseEtl, delivered } = syncing(lakehouse);
    const original = await reverseEtl.run('sales-rank');
    const sent = structuredClone(delivered);
    await execute(lakehouse, `UPDATE gold.product_sales_rank SET sales_rank = sales_rank + 10`);
    await reverseEtl.run('sales-rank');
    delivered.length = 0;

    const replay = await reverseEtl.replay(original.runId);
    expect(replay).toMatchObject({ status: 'success', replayOf: original.runId, pushed: 3, rows: null });
    const payloads = (messages: readonly OutboxMessage[]) =>
      messages
        .map((message) => message.payload as { data: unknown; occurredAt: string })
        .map(({ data, occurredAt }) => ({ data, occurredAt }));
    expect(payloads(delivered)).toEqual(payloads(sent));
    expect(ranksOf(delivered)).toEqual({ p1: 1, p2: 2, p3: 3 });
    for (const message of delivered) {
      const key = (message.payload as { data: { productId: string } }).data.productId;
      expect(message.id).toBe(commandIdOf('sales-rank', key, replay.runId));
    }
    // Replaying the replay sends the original's commands again, not nothing.
    delivered.length = 0;
    await reverseEtl.replay(replay.runId);
    expect(payloads(delivered)).toEqual(payloads(sent));
    await expect(reverseEtl.replay('no-such-run')).rejects.toThrow(/no-such-run/);
  });

  it('refuses a query answering one key twice, and pushes nothing of that run', async () => {
    const lakehouse = await rankedLakehouse();
    const { reverseEtl, delivered } = syncing(lakehouse);
    await execute(lakehouse, `INSERT INTO gold.product_sales_rank VALUES ('p1', 9)`);
    await expect(reverseEtl.run('sales-rank')).rejects.toThrow('two rows have the key p1');
    expect(delivered).toEqual([]);
  });

  it('runs after a model run at most once per interval, and still runs once the interval is over', async () => {
    const lakehouse = await rankedLakehouse();
    const { reverseEtl } = syncing(lakehouse, {
      syncs: [salesRank({ afterModelRun: true, minIntervalMs: 400 })],
    });
    reverseEtl.modelRunSucceeded();
    const ended = async () => (await reverseEtl.runs()).filter((run) => run.status !== 'running');
    await expect.poll(async () => (await ended()).length).toBe(1);
    await execute(lakehouse, `UPDATE gold.product_sales_rank SET sales_rank = sales_rank + 10`);
    reverseEtl.modelRunSucceeded();
    reverseEtl.modelRunSucceeded();
    // The change is pushed by one deferred run, not lost for want of another model run.
    await expect.poll(async () => (await ended()).length, { timeout: 5_000 }).toBe(2);
    expect(await reverseEtl.runs()).toHaveLength(2);
    expect((await reverseEtl.runs())[0]).toMatchObject({ status: 'success', pushed: 3 });
    await reverseEtl.stop();
  });

  it('keeps the newest keepRuns runs in the log', async () => {
    const lakehouse = await rankedLakehouse();
    const { reverseEtl } = syncing(lakehouse, { keepRuns: 2 });
    for (const runId of ['a', 'b', 'c', 'd', 'e']) await reverseEtl.run('sales-rank', { runId });
    const kept = (await reverseEtl.runs({ limit: 10 })).map((run) => run.runId);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept.slice(0, 2)).toEqual(['e', 'd']);
    expect(kept).not.toContain('a');
  });

  it('refuses a sync with a bad name or schedule, and two syncs of one name', async () => {
    expect(() => salesRank({ everyMs: 5 })).toThrow('everyMs of at least 100');
    expect(() => defineReverseSync({ ...salesRank(), name: 'Sales Rank' })).toThrow('lower-case');
    const lakehouse = await rankedLakehouse();
    expect(() => syncing(lakehouse, { syncs: [salesRank(), salesRank()] })).toThrow('same name');
  });
});
