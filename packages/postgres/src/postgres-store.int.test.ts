import { randomUUID } from 'node:crypto';
import {
  type AppendRequest,
  type AppendResult,
  ConcurrencyError,
  type EventToStore,
  type GlobalCursor,
  IdempotencyConflictError,
  type Store,
  StoreUnavailableError,
} from '@causeway/core';
import {
  createTestDatabase,
  describeStoreConformance,
  describeWithService,
  type TestDatabase,
} from '@causeway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from './index.ts';
import { createPostgresConnection } from './postgres-connection.ts';

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

describeWithService('postgres', 'Postgres store', () => {
  let database: TestDatabase;
  const stores: Store[] = [];
  const open = async (schema: string) => {
    const store = await createPostgresStore({ connectionString: database.url, schema });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    database = await createTestDatabase('store');
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await database?.drop();
  });

  describeStoreConformance('postgres', () => open('conformance'));

  describe('postgres specifics', () => {
    it('refuses a pooled connection left inside a transaction, closes it, and goes on', async () => {
      const connection = createPostgresConnection({
        connectionString: database.url,
        schema: 'public',
        poolSize: 1,
      });
      try {
        // Misuse: BEGIN through the pool leaves its one connection inside a transaction.
        await connection.execute('BEGIN');
        await expect(connection.transaction((tx) => tx.execute('SELECT 1'))).rejects.toThrow(
          /left inside a transaction/,
        );
        expect(await connection.transaction((tx) => tx.query('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
      } finally {
        await connection.close();
      }
    });

    it('prepares its own statements once per connection, and they outlive a migration that adds a column', async () => {
      const store = await createPostgresStore({
        connectionString: database.url,
        schema: 'prepared',
        poolSize: 1,
      });
      stores.push(store);
      const sagaId = `saga-${randomUUID()}`;
      const preparedStatements = await store.transaction(async (tx) => {
        await store.sagas.insert(tx, {
          sagaId,
          sagaName: 'Prepared',
          status: 'running',
          data: {},
          stepIndex: 0,
          steps: [],
          wakeAt: null,
          reason: null,
          correlationId: sagaId,
        });
        await store.sagas.get(tx, sagaId);
        return tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
      });
      const sagaRead = preparedStatements.filter(({ statement }) =>
        /SELECT saga_id, .* FROM "prepared"\.saga_instances WHERE saga_id = \$1/s.test(statement),
      );
      expect(sagaRead).toHaveLength(1);
      // A newer version of the service adds a column while this one runs: a prepared `SELECT *`
      // would now fail with "cached plan must not change result type".
      await store.transaction((tx) => tx.execute('ALTER TABLE saga_instances ADD COLUMN added_later int'));
      expect((await store.sagas.get(null, sagaId))?.sagaId).toBe(sagaId);
      expect((await store.transaction((tx) => store.sagas.get(tx, sagaId)))?.sagaId).toBe(sagaId);
    });

    it('keeps two schemas of one database isolated', async () => {
      const [orders, billing] = await Promise.all([open('orders'), open('billing')]);
      await orders.events.appendMany([
        { streamId: 'shared-id', expectedVersion: 'noStream', events: [event('x')] },
      ]);
      expect(await billing.events.streamVersion(null, 'shared-id')).toBe(0);
      expect(await billing.events.headPosition()).toBe(0);
      await orders.transaction((tx) => tx.execute('CREATE TABLE own_table (n int)'));
      await billing.transaction((tx) => tx.execute('CREATE TABLE own_table (n int)'));
      const [result] = await billing.events.appendMany([
        { streamId: 'shared-id', expectedVersion: 'noStream', events: [event('x')] },
      ]);
      expect(result).not.toBeInstanceOf(Error);
      expect(await orders.events.streamVersion(null, 'shared-id')).toBe(1);
    });

    it('opens the same schema from several processes at once without racing migrations', async () => {
      const opened = await Promise.all(Array.from({ length: 4 }, () => open('raced')));
      expect(opened.map((store) => store.name)).toEqual(['postgres', 'postgres', 'postgres', 'postgres']);
    });

    it('commits the good requests of a mixed appendMany in one transaction', async () => {
      const store = await open('group_commit');
      await store.events.appendMany(
        Array.from({ length: 10 }, (_, i) => ({
          streamId: `existing-${i}`,
          expectedVersion: 'noStream' as const,
          events: [event(`existing-${i}`)],
        })),
      );
      const requests: AppendRequest[] = Array.from({ length: 50 }, (_, i) =>
        i % 5 === 0
          ? { streamId: `existing-${i / 5}`, expectedVersion: 'noStream', events: [event('bad')] }
          : { streamId: `fresh-${i}`, expectedVersion: 'noStream', events: [event(`fresh-${i}`)] },
      );
      const results = await store.events.appendMany(requests);
      const failures = results.filter((result) => result instanceof Error);
      expect(failures).toHaveLength(10);
      for (const failure of failures) expect(failure).toBeInstanceOf(ConcurrencyError);
      const goodIds = requests
        .filter((_, i) => i % 5 !== 0)
        .flatMap((request) => request.events.map((e) => e.id));
      const rows = await store.transaction((tx) =>
        tx.query<{ transactions: number; events: number }>(
          'SELECT count(DISTINCT transaction_id) AS transactions, count(*) AS events FROM events WHERE event_id = ANY ($1)',
          [goodIds],
        ),
      );
      expect(rows[0]).toEqual({ transactions: 1, events: 40 });
    });

    it('undoes a request whose ids turn out taken after its version check, and keeps its neighbours', async () => {
      const store = await open('undo');
      const [existing, repeated, reused, retried, fresh] = [
        'existing',
        'repeated',
        'reused',
        'retried',
        'fresh',
      ];
      const stored = event(existing);
      await store.events.appendMany([
        { streamId: existing, expectedVersion: 'noStream', events: [stored, event(existing)] },
      ]);
      const retriedEvents = [event(retried)];
      const [first] = await store.events.appendMany([
        { streamId: retried, expectedVersion: 'noStream', events: retriedEvents },
      ]);
      const head = await store.events.headPosition();
      const twice = event(repeated);
      const results = await store.events.appendMany([
        { streamId: repeated, expectedVersion: 'any', events: [twice, twice] },
        { streamId: reused, expectedVersion: 'any', events: [event(reused), stored] },
        { streamId: existing, expectedVersion: 'streamExists', events: [stored, event(existing)] },
        { streamId: retried, expectedVersion: 'any', events: retriedEvents },
        { streamId: fresh, expectedVersion: 'noStream', events: [event(fresh)] },
      ]);
      expect(results[0]).toBeInstanceOf(IdempotencyConflictError);
      expect(results[1]).toBeInstanceOf(IdempotencyConflictError);
      expect(results[2]).toBeInstanceOf(IdempotencyConflictError);
      expect(results[3]).toEqual({ ...(first as AppendResult), deduplicated: true });
      expect((results[4] as AppendResult).nextExpectedVersion).toBe(1);
      for (const [streamId, version] of [
        [repeated, 0],
        [reused, 0],
        [existing, 2],
        [retried, 1],
        [fresh, 1],
      ] as const) {
        expect(await store.events.streamVersion(null, streamId)).toBe(version);
      }
      // No stream row is left behind: 'noStream' still holds for the undone new streams.
      const again = await store.events.appendMany([
        { streamId: repeated, expectedVersion: 'noStream', events: [event(repeated)] },
        { streamId: reused, expectedVersion: 'noStream', events: [event(reused)] },
      ]);
      expect(again.map((result) => (result as AppendResult).nextExpectedVersion)).toEqual([1, 1]);
      // The undone requests' positions are burned; the global reader steps over them once every
      // older transaction of the server has ended (other test files may hold one for a while).
      let cursor: GlobalCursor = { position: head };
      const seen: string[] = [];
      const deadline = Date.now() + 30_000;
      while (seen.length < 3 && Date.now() < deadline) {
        const batch = await store.events.readAll(cursor, { limit: 100 });
        seen.push(...batch.events.map((stored) => stored.streamId));
        cursor = batch.cursor;
        if (batch.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen).toEqual([fresh, repeated, reused]);
    });

    it('settles racing appends of one event id from two processes without failing either batch', async () => {
      const [left, right] = await Promise.all([open('race'), open('race')]);
      for (let round = 0; round < 10; round++) {
        const shared = event('shared');
        const [streamA, streamB] = [randomUUID(), randomUUID()];
        const [[a], [b]] = await Promise.all([
          left.events.appendMany([
            { streamId: streamA, expectedVersion: 'any', events: [{ ...shared, streamId: streamA }] },
          ]),
          right.events.appendMany([
            { streamId: streamB, expectedVersion: 'any', events: [{ ...shared, streamId: streamB }] },
          ]),
        ]);
        const outcomes = [a, b].map((result) => (result instanceof Error ? result.constructor.name : 'ok'));
        expect(outcomes.sort()).toEqual(['IdempotencyConflictError', 'ok']);
        const versions = await Promise.all(
          [streamA, streamB].map((id) => left.events.streamVersion(null, id)),
        );
        expect(versions.sort()).toEqual([0, 1]);
      }
    });

    it('wakes subscribers on commits of another process, and again after the listener reconnects', async () => {
      const [watcher, writer] = await Promise.all([open('changes'), open('changes')]);
      let calls = 0;
      const unsubscribe = watcher.subscribeToChanges(() => {
        calls += 1;
      });
      const waitForCall = async () => {
        const before = calls;
        const deadline = Date.now() + 10_000;
        while (calls === before && Date.now() < deadline) {
          await writer.events.appendMany([
            { streamId: randomUUID(), expectedVersion: 'any', events: [event('w')] },
          ]);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(calls).toBeGreaterThan(before);
      };
      await waitForCall();
      await writer.transaction((tx) =>
        tx.execute(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await waitForCall(); // the reconnect itself wakes subscribers once
      await waitForCall(); // and NOTIFY flows again on the new connection
      unsubscribe();
    });

    it('wakes its own subscribers once per local commit, not again by its own NOTIFY; another store still hears it', async () => {
      const [store, other] = await Promise.all([open('own_changes'), open('own_changes')]);
      let ownWakes = 0;
      let otherWakes = 0;
      const stopOwn = store.subscribeToChanges(() => {
        ownWakes += 1;
      });
      const stopOther = other.subscribeToChanges(() => {
        otherWakes += 1;
      });
      // Both listeners are connected once the other store hears a commit (its connect also wakes).
      const deadline = Date.now() + 10_000;
      while (otherWakes < 2 && Date.now() < deadline) {
        await store.events.appendMany([
          { streamId: randomUUID(), expectedVersion: 'any', events: [event('w')] },
        ]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(otherWakes).toBeGreaterThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [ownBefore, otherBefore] = [ownWakes, otherWakes];
      await store.events.appendMany([
        { streamId: randomUUID(), expectedVersion: 'any', events: [event('w')] },
      ]);
      const heard = Date.now() + 10_000;
      while (otherWakes === otherBefore && Date.now() < heard) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // The NOTIFY reached the other store; by then it reached this store's listener too.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect({ own: ownWakes - ownBefore, other: otherWakes - otherBefore }).toEqual({ own: 1, other: 1 });
      stopOwn();
      stopOther();
    });

    it('spares an outbox-only subscriber the wakes of local commits that left no outbox row', async () => {
      const store = await open('outbox_wakes');
      const wakes = { all: 0, outbox: 0 };
      const stopAll = store.subscribeToChanges(() => {
        wakes.all += 1;
      });
      const stopOutbox = store.subscribeToChanges(
        () => {
          wakes.outbox += 1;
        },
        { only: 'outbox' },
      );
      // Connecting the listener wakes both once; wait for it so that it is not counted below.
      const connected = Date.now() + 10_000;
      while ((wakes.all < 1 || wakes.outbox < 1) && Date.now() < connected) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const counted = async (work: () => Promise<unknown>) => {
        const before = { ...wakes };
        await work();
        return { all: wakes.all - before.all, outbox: wakes.outbox - before.outbox };
      };
      const append = (request: Partial<Parameters<typeof store.events.appendMany>[0][number]>) =>
        store.events.appendMany([
          { streamId: randomUUID(), expectedVersion: 'any', events: [event('w')], ...request },
        ]);
      expect(await counted(() => append({}))).toEqual({ all: 1, outbox: 0 });
      expect(await counted(() => append({ publishTo: 'elsewhere' }))).toEqual({ all: 1, outbox: 1 });
      expect(
        await counted(() =>
          store.transaction((tx) =>
            store.outbox.enqueue(tx, [
              { id: randomUUID(), destination: 'd', orderingKey: randomUUID(), type: 't', payload: {} },
            ]),
          ),
        ),
      ).toEqual({ all: 1, outbox: 1 });
      stopAll();
      stopOutbox();
    });

    it('reports an unreachable server as a StoreUnavailableError', async () => {
      const error = await createPostgresStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain('127.0.0.1:1');
    });
  });
});
