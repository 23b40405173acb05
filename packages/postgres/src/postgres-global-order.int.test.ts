import { randomUUID } from 'node:crypto';
import type { EventToStore, GlobalCursor, Store, StoredEvent, Transaction } from '@causeway/core';
import { createTestDatabase, describeWithService, type TestDatabase } from '@causeway/testing';

import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore } from './index.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function event(streamId: string): EventToStore {
  return {
    id: randomUUID(),
    type: 'Noted',
    schemaVersion: 1,
    streamId,
    correlationId: null,
    causationId: null,
    occurredAt: new Date().toISOString(),
    metadata: {},
    data: { streamId },
  };
}

/** A transaction kept open until `finish(commit)` is called. */
async function openTransaction(store: Store, work: (tx: Transaction) => Promise<void>) {
  let finish!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  let started!: () => void;
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  const done = store
    .transaction(async (tx) => {
      await work(tx);
      started();
      if (!(await decided)) throw new Error('rolled back on purpose');
    })
    .catch((error: Error) => {
      if (error.message !== 'rolled back on purpose') throw error;
    });
  await ready;
  return {
    commit: async () => {
      finish(true);
      await done;
    },
    rollBack: async () => {
      finish(false);
      await done;
    },
  };
}

async function readUntil(
  store: Store,
  cursor: GlobalCursor,
  count: number,
): Promise<{ events: StoredEvent[]; cursor: GlobalCursor }> {
  const events: StoredEvent[] = [];
  const deadline = Date.now() + 20_000;
  while (events.length < count) {
    if (Date.now() > deadline)
      throw new Error(`read ${events.length} of ${count} events before the deadline`);
    const batch = await store.events.readAll(cursor, { limit: 100 });
    events.push(...batch.events);
    cursor = batch.cursor;
    if (batch.events.length === 0) await sleep(20);
  }
  return { events, cursor };
}

describeWithService('postgres', 'Postgres global order (gap holds)', () => {
  let database: TestDatabase;
  const stores: Store[] = [];
  let schemaCount = 0;
  const schemaName = () => `order_${schemaCount}`;

  const openStore = async () => {
    schemaCount += 1;
    const store = await createPostgresStore({
      connectionString: database.url,
      schema: schemaName(),
      poolSize: 24,
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    database = await createTestDatabase('global_order');
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await database?.drop();
  });

  it('holds a gap while the lower position is uncommitted, then delivers both in order', async () => {
    const store = await openStore();
    const a = event('a');
    const b = event('b');
    const writerA = await openTransaction(store, async (tx) => {
      await store.events.append(tx, { streamId: 'a', expectedVersion: 'any', events: [a] });
    });
    const [resultB] = await store.events.appendMany([{ streamId: 'b', expectedVersion: 'any', events: [b] }]);
    expect(resultB).not.toBeInstanceOf(Error);

    const first = await store.events.readAll({ position: 0 }, { limit: 10 });
    expect(first.events).toEqual([]);
    expect(first.cursor.hold?.at).toBe(1);
    await sleep(60);
    const second = await store.events.readAll(first.cursor, { limit: 10 });
    expect(second.events).toEqual([]);
    expect(second.heldBackMs).toBeGreaterThanOrEqual(50);
    expect(second.heldBackReason).toContain('gap at 1');

    await writerA.commit();
    const third = await store.events.readAll(second.cursor, { limit: 10 });
    expect(third.events.map((e) => e.id)).toEqual([a.id, b.id]);
    expect(third.events.map((e) => e.globalPosition)).toEqual([1, 2]);
    expect(third.cursor).toEqual({ position: 2 });
    expect(third.heldBackMs).toBe(0);
  });

  it('steps over the gap of a rolled-back transaction once xmin passes the horizon', async () => {
    const store = await openStore();
    const b = event('b');
    const writerA = await openTransaction(store, async (tx) => {
      await store.events.append(tx, { streamId: 'a', expectedVersion: 'any', events: [event('a')] });
    });
    await store.events.appendMany([{ streamId: 'b', expectedVersion: 'any', events: [b] }]);
    const held = await store.events.readAll({ position: 0 }, { limit: 10 });
    expect(held.events).toEqual([]);

    await writerA.rollBack();
    const { events, cursor } = await readUntil(store, held.cursor, 1);
    expect(events.map((e) => e.id)).toEqual([b.id]);
    expect(cursor).toEqual({ position: 2 });
  });

  it('is held back by an older unrelated transaction and never skips while it runs', async () => {
    const store = await openStore();
    await store.transaction((tx) => tx.execute('CREATE TABLE IF NOT EXISTS scratch (n int)'));
    const unrelated = await openTransaction(store, async (tx) => {
      await tx.execute('INSERT INTO scratch VALUES (1)');
    });
    const writerA = await openTransaction(store, async (tx) => {
      await store.events.append(tx, { streamId: 'a', expectedVersion: 'any', events: [event('a')] });
    });
    const b = event('b');
    await store.events.appendMany([{ streamId: 'b', expectedVersion: 'any', events: [b] }]);
    await writerA.rollBack();

    let cursor: GlobalCursor = { position: 0 };
    let batch = await store.events.readAll(cursor, { limit: 10 });
    for (let i = 0; i < 5; i++) {
      await sleep(30);
      batch = await store.events.readAll(batch.cursor, { limit: 10 });
      expect(batch.events).toEqual([]);
    }
    expect(batch.heldBackMs).toBeGreaterThan(0);
    expect(batch.heldBackReason).toMatch(/gap at 1 behind transaction/);
    cursor = batch.cursor;

    await unrelated.commit();
    const { events } = await readUntil(store, cursor, 1);
    expect(events.map((e) => e.id)).toEqual([b.id]);
  });

  it('waits for a missing position whose transaction has a higher xid than the visible event', async () => {
    // The visible, higher position comes from a transaction that got its xid FIRST; the missing
    // one's xid may then be >= the snapshot's xmax, so xmax alone would not be a safe horizon.
    const store = await openStore();
    await store.transaction((tx) => tx.execute('CREATE TABLE IF NOT EXISTS scratch (n int)'));
    const h = event('h');
    const m = event('m');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${schemaName()}.scratch VALUES (1)`);
      const writerM = await openTransaction(store, async (tx) => {
        await store.events.append(tx, { streamId: 'm', expectedVersion: 'any', events: [m] });
      });
      await client.query(`SELECT * FROM ${schemaName()}.append_many($1::jsonb)`, [
        JSON.stringify([{ streamId: 'h', expectedVersion: 'any', events: [h], outbox: [] }]),
      ]);
      await client.query('COMMIT');

      let batch = await store.events.readAll({ position: 0 }, { limit: 10 });
      for (let i = 0; i < 5; i++) {
        await sleep(20);
        batch = await store.events.readAll(batch.cursor, { limit: 10 });
        expect(batch.events).toEqual([]);
      }
      await writerM.commit();
      const { events } = await readUntil(store, batch.cursor, 2);
      expect(events.map((e) => e.id)).toEqual([m.id, h.id]);
    } finally {
      await client.end();
    }
  });

  it('delivers exactly the committed events under random concurrent writers with rollbacks', async () => {
    const store = await openStore();
    const committed = new Set<string>();
    let writing = true;

    const writer = async (appendsToDo: number) => {
      let done = 0;
      while (done < appendsToDo) {
        const count = Math.min(appendsToDo - done, 1 + Math.floor(Math.random() * 3));
        const streams = Array.from({ length: count }, () => `s-${Math.floor(Math.random() * 100)}`).sort();
        const ids: string[] = [];
        const rollBack = Math.random() < 0.15;
        // A third of the writes go through group commit (append_many, or the one-statement
        // append when alone): their positions must be as safe for readers as a transaction's.
        if (Math.random() < 0.33) {
          const events = streams.map((streamId) => event(streamId));
          const results = await store.events.appendMany(
            events.map((next, index) => ({
              streamId: streams[index]!,
              expectedVersion: 'any' as const,
              events: [next],
            })),
          );
          results.forEach((result, index) => {
            if (!(result instanceof Error)) committed.add(events[index]!.id);
          });
          done += count;
          continue;
        }
        try {
          await store.transaction(async (tx) => {
            for (const streamId of streams) {
              const next = event(streamId);
              await store.events.append(tx, { streamId, expectedVersion: 'any', events: [next] });
              ids.push(next.id);
              await sleep(Math.random() * 4);
            }
            if (rollBack) throw new Error('rolled back on purpose');
          });
          for (const id of ids) committed.add(id);
        } catch (error) {
          if (!rollBack && !(error instanceof Error && /deadlock|concurrent/.test(error.message)))
            throw error;
        }
        done += count;
      }
    };

    const delivered: StoredEvent[] = [];
    let cursor: GlobalCursor = { position: 0 };
    const readOnce = async () => {
      const batch = await store.events.readAll(cursor, { limit: 50 });
      delivered.push(...batch.events);
      cursor = batch.cursor;
      return batch;
    };
    const reader = (async () => {
      while (writing) {
        const batch = await readOnce();
        if (batch.events.length === 0) await sleep(2);
      }
    })();

    await Promise.all(Array.from({ length: 16 }, () => writer(125)));
    writing = false;
    await reader;
    const head = await store.events.headPosition();
    const deadline = Date.now() + 20_000;
    while (cursor.position < head) {
      if (Date.now() > deadline) throw new Error(`reader stuck at ${cursor.position} of ${head}`);
      const batch = await readOnce();
      if (batch.events.length === 0) await sleep(10);
    }

    const deliveredIds = delivered.map((e) => e.id);
    expect(new Set(deliveredIds).size).toBe(deliveredIds.length);
    expect(new Set(deliveredIds)).toEqual(committed);
    expect(committed.size).toBeGreaterThan(1000);
    const positions = delivered.map((e) => e.globalPosition);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    const lastByStream = new Map<string, number>();
    for (const e of delivered) {
      expect(e.streamPosition).toBe((lastByStream.get(e.streamId) ?? 0) + 1);
      lastByStream.set(e.streamId, e.streamPosition);
    }
  });
});
