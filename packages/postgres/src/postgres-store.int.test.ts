import { randomUUID } from 'node:crypto';
import {
  type AppendRequest,
  ConcurrencyError,
  type EventToStore,
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

    it('reports an unreachable server as a StoreUnavailableError', async () => {
      const error = await createPostgresStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toContain('127.0.0.1:1');
    });
  });
});
