import { randomUUID } from 'node:crypto';
import type {
  EventToStore,
  GlobalBatch,
  GlobalCursor,
  Store,
  StoredEvent,
  Transaction,
} from '@causeway/core';
import { createTestDatabase, describeWithService, type TestDatabase } from '@causeway/testing';

import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore } from './index.ts';
import { createGlobalOrderLedger } from './test-support/global-order-ledger.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The randomized run's size: CI keeps the defaults; the one-off proof runs a million events
 * (`CAUSEWAY_GLOBAL_ORDER_EVENTS=1000000 npm run prove:global-order`, see docs/backends.md).
 */
const randomRun = (() => {
  const events = settingOf('CAUSEWAY_GLOBAL_ORDER_EVENTS', 2_000);
  const writers = settingOf('CAUSEWAY_GLOBAL_ORDER_WRITERS', 16);
  return { events, writers, eventsPerRound: 200, timeoutMs: 60_000 + events * 10 };
})();

function settingOf(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${text}"`);
  return value;
}

/** Event number `n` (the ledger's) rides in the data, so the reader's side can be checked by it. */
function event(streamId: string, n?: number): EventToStore {
  return {
    id: randomUUID(),
    type: 'Noted',
    schemaVersion: 1,
    streamId,
    correlationId: null,
    causationId: null,
    occurredAt: new Date().toISOString(),
    metadata: {},
    data: { streamId, n },
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

/** Reads until the reader reaches the head; fails if it makes no progress for 30 s. */
async function readToHead(store: Store, readOnce: () => Promise<GlobalBatch>, cursor: () => GlobalCursor) {
  const head = await store.events.headPosition();
  let seen = cursor().position;
  let movedAt = Date.now();
  while (cursor().position < head) {
    const batch = await readOnce();
    if (cursor().position !== seen) {
      seen = cursor().position;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > 30_000) {
      throw new Error(`reader stuck at ${seen} of ${head}: ${batch.heldBackReason ?? 'no gap reported'}`);
    }
    if (batch.events.length === 0) await sleep(10);
  }
}

describeWithService('postgres', 'Postgres global order (gap holds)', () => {
  let database: TestDatabase;
  const stores: Store[] = [];
  let schemaCount = 0;
  const schemaName = () => `order_${schemaCount}`;

  const openStore = async (poolSize = 24) => {
    schemaCount += 1;
    const store = await createPostgresStore({
      connectionString: database.url,
      schema: schemaName(),
      poolSize,
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

  it('steps over every burned position below the highest one seen at the gap in one read, once proven', async () => {
    // Under many writers with rollbacks, gaps come in runs: one proof covers every missing position
    // below a visible one, instead of one wait (for every older transaction) per gap.
    const store = await openStore();
    const first = event('first');
    const last = event('last');
    const writerFirst = await openTransaction(store, async (tx) => {
      await store.events.append(tx, { streamId: 'first', expectedVersion: 'any', events: [first] });
    });
    for (const streamId of ['burned-1', 'burned-2', 'burned-3']) {
      const burned = await openTransaction(store, async (tx) => {
        await store.events.append(tx, { streamId, expectedVersion: 'any', events: [event(streamId)] });
      });
      await burned.rollBack();
    }
    const [appended] = await store.events.appendMany([
      { streamId: 'last', expectedVersion: 'any', events: [last] },
    ]);
    expect(appended).not.toBeInstanceOf(Error);

    const held = await store.events.readAll({ position: 0 }, { limit: 10 });
    expect(held.events).toEqual([]);
    expect(held.cursor.hold).toMatchObject({ at: 1, through: 5 });

    await writerFirst.commit();
    // The proof needs every transaction older than the burned ones to have ended, in the whole
    // cluster: a test file writing beside this one can delay it by a few reads. What must hold is
    // that the three gaps are stepped over at once: the cursor goes from 1 to 5, never to 2, 3 or 4.
    const delivered: StoredEvent[] = [];
    const positions: number[] = [];
    let cursor = held.cursor;
    for (let attempt = 0; cursor.position < 5 && attempt < 500; attempt++) {
      const read = await store.events.readAll(cursor, { limit: 10 });
      delivered.push(...read.events);
      if (read.cursor.position !== cursor.position) positions.push(read.cursor.position);
      cursor = read.cursor;
      if (cursor.position < 5) await sleep(10);
    }
    expect(delivered.map((e) => [e.id, e.globalPosition])).toEqual([
      [first.id, 1],
      [last.id, 5],
    ]);
    expect(positions.filter((position) => position > 1)).toEqual([5]);
    expect(cursor).toEqual({ position: 5 });
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
      await client.query(`SELECT * FROM ${schemaName()}.append_many($1::jsonb, NULL, NULL)`, [
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

  it(
    `delivers exactly the committed events, in order, from ${randomRun.writers} random concurrent writers with rollbacks (${randomRun.events} events)`,
    async () => {
      const store = await openStore(randomRun.writers + 8);
      const ledger = createGlobalOrderLedger();
      const target = randomRun.events;
      let writing = true;
      let cursor: GlobalCursor = { position: 0 };
      let roundEnd = randomRun.eventsPerRound;
      let rounds = 1;

      // Every round of events, the writers wait for the reader to reach the head. Each gap of a
      // burned position costs the reader a wait for every older transaction to end, so under
      // load it falls behind and would meet only transactions long ended; from the head it
      // meets the race live (gapsFilledLate).
      const awaitReader = async () => {
        while (ledger.committedCount() >= roundEnd && ledger.committedCount() < target) {
          const head = await store.events.headPosition();
          if (ledger.committedCount() < roundEnd) return;
          if (cursor.position < head) {
            await sleep(10);
            continue;
          }
          roundEnd = ledger.committedCount() + randomRun.eventsPerRound;
          rounds += 1;
        }
      };

      const writer = async () => {
        while (ledger.committedCount() < target) {
          await awaitReader();
          const count = 1 + Math.floor(Math.random() * 3);
          const streams = Array.from({ length: count }, () => `s-${Math.floor(Math.random() * 100)}`).sort();
          const numbers = streams.map(() => ledger.nextNumber());
          const rollBack = Math.random() < 0.15;
          // A third of the writes go through group commit (append_many, or the one-statement
          // append when alone): their positions must be as safe for readers as a transaction's.
          if (Math.random() < 0.33) {
            const results = await store.events.appendMany(
              streams.map((streamId, index) => ({
                streamId,
                expectedVersion: 'any' as const,
                events: [event(streamId, numbers[index])],
              })),
            );
            results.forEach((result, index) => {
              if (result instanceof Error) return;
              ledger.markCommitted([
                { n: numbers[index]!, globalPosition: result.positions[0]!.globalPosition },
              ]);
            });
            continue;
          }
          const written: Array<{ n: number; globalPosition: number }> = [];
          let outOfOrder = false;
          try {
            // The sleeps keep a transaction open after it took its positions, while others
            // take higher ones and commit: the out-of-order commits the reader must wait for.
            await store.transaction(async (tx) => {
              for (const [index, streamId] of streams.entries()) {
                const n = numbers[index]!;
                const result = await store.events.append(tx, {
                  streamId,
                  expectedVersion: 'any',
                  events: [event(streamId, n)],
                });
                written.push({ n, globalPosition: result.positions[0]!.globalPosition });
                await sleep(Math.random() * 4);
              }
              if (rollBack) throw new Error('rolled back on purpose');
              outOfOrder = ledger.isBehindCommitted(Math.min(...written.map((w) => w.globalPosition)));
            });
            ledger.markCommitted(written, outOfOrder);
          } catch (error) {
            if (!rollBack && !(error instanceof Error && /deadlock|concurrent/.test(error.message)))
              throw error;
          }
        }
      };

      const readOnce = async () => {
        const batch = await store.events.readAll(cursor, { limit: 100 });
        ledger.observe(batch);
        cursor = batch.cursor;
        return batch;
      };
      const reader = (async () => {
        while (writing) {
          const batch = await readOnce();
          if (batch.events.length === 0) await sleep(2);
        }
      })();

      const began = Date.now();
      const report = (label: string) => {
        const p = ledger.progress();
        process.stderr.write(
          `global order ${label} after ${((Date.now() - began) / 1000).toFixed(1)} s: ` +
            `${p.committed} of ${target} events committed (${p.attempted} attempted, ${randomRun.writers} writers), ` +
            `${p.delivered} read up to position ${p.position}; ${p.gapsHeld} gaps held, ` +
            `${p.gapsFilledLate} filled by a late commit, ${p.gapsSteppedOver} stepped over; ` +
            `${p.commitsOutOfOrder} transactions committed after a higher position; ${rounds} rounds\n`,
        );
      };
      const progress = setInterval(() => report('progress'), 10_000);
      try {
        await Promise.all(Array.from({ length: randomRun.writers }, () => writer()));
        writing = false;
        await reader;
        await readToHead(store, readOnce, () => cursor);
      } finally {
        writing = false;
        clearInterval(progress);
      }
      report('done');

      const summary = ledger.summarize();
      expect(summary.violations).toEqual([]);
      expect(summary).toMatchObject({
        missing: 0,
        phantoms: 0,
        duplicates: 0,
        outOfOrder: 0,
        streamBreaks: 0,
        delivered: summary.committed,
      });
      expect(summary.committed).toBeGreaterThanOrEqual(target);
      // The race really happened: transactions committed after a higher position had committed,
      // and the reader was waiting at some of those gaps when they were filled.
      expect(summary.commitsOutOfOrder).toBeGreaterThan(0);
      expect(summary.gapsFilledLate).toBeGreaterThan(0);
    },
    randomRun.timeoutMs,
  );
});
