/**
 * Write-back over a real store (SQLite; PostgreSQL when it runs here): writes are acknowledged from
 * the durable journal by group commit, combined per key, flushed in batches in the transaction that
 * clears the journal, read back after a crash by a process of the same owner, and kept when a flush
 * fails. The kill test (crash/write-back-crash.e2e.test.ts) proves the same under SIGKILL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWriteBack, type Store, type WriteBackOptions } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';

const written = 'written';
const journalOf = (name: string) => `write-back:${name}`;
let names = 0;

function writeBackOf(store: Store, options: Partial<WriteBackOptions<string>> = {}) {
  return createWriteBack<string>({
    store,
    name: `test-${names++}`,
    flushEveryMs: 60_000,
    flush: (tx, entries) =>
      store.documents.putMany(
        tx,
        written,
        entries.map(({ key, value }) => ({ id: key, document: value })),
      ),
    ...options,
  });
}

function describeWriteBack(backend: string, open: () => Promise<Store>) {
  describe(`write-back on ${backend}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('acknowledges many writes in few journal commits, and flushes the latest value per key once', async () => {
      const writeBack = writeBackOf(store);
      await writeBack.start();
      await Promise.all(Array.from({ length: 300 }, (_, i) => writeBack.write(`k${i % 30}`, `v${i}`)));
      expect(writeBack.stats.writes).toBe(300);
      expect(writeBack.stats.journalCommits).toBeLessThan(300);
      // Each key's writes were made in order, so its last one is its value.
      expect(writeBack.pending('k7')).toBe('v277');
      expect(await store.documents.count(null, journalOf(`test-${names - 1}`))).toBe(30);
      expect(await writeBack.flush()).toBe(30);
      expect(await store.documents.get(null, written, 'k7')).toBe('v277');
      expect(writeBack.pending('k7')).toBeUndefined();
      expect(await store.documents.count(null, journalOf(`test-${names - 1}`))).toBe(0);
      expect(await writeBack.flush()).toBe(0);
      await writeBack.close();
    });

    it('merges pending writes to one key when told how', async () => {
      const sums: Array<{ key: string; value: number }> = [];
      const counters = createWriteBack<number>({
        store,
        name: `test-${names++}`,
        flushEveryMs: 60_000,
        merge: (pending, next) => pending + next,
        flush: async (_tx, entries) => {
          sums.push(...entries);
        },
      });
      await counters.start();
      await Promise.all(Array.from({ length: 50 }, () => counters.write('views', 2)));
      expect(counters.pending('views')).toBe(100);
      const flushedSum = async () => sums.reduce((total, entry) => total + entry.value, 0);
      expect(await counters.read('views', flushedSum)).toBe(100);
      await counters.flush();
      expect(sums).toEqual([{ key: 'views', value: 100 }]);
      await counters.write('views', 1);
      // The table's 100 and the journal's 1, read while a flush runs: neither counted twice nor missed.
      const [during] = await Promise.all([counters.read('views', flushedSum), counters.flush()]);
      expect(during).toBe(101);
      expect(await counters.read('views', flushedSum)).toBe(101);
      await counters.close();
    });

    it('after a crash, a process of the same owner finds the acknowledged writes and flushes them; another owner does not', async () => {
      const name = `test-${names++}`;
      const crashed = writeBackOf(store, { name, owner: 'instance-1' });
      await crashed.start();
      await crashed.write('order-1', 'paid');
      await crashed.write('order-2', 'shipped');
      // No close, no flush: the process is gone.
      const other = writeBackOf(store, { name, owner: 'instance-2' });
      await other.start();
      expect(other.pending('order-1')).toBeUndefined();
      expect(await store.documents.get(null, written, 'order-2')).not.toBe('shipped');
      const restarted = writeBackOf(store, { name, owner: 'instance-1' });
      await restarted.start();
      expect(await store.documents.get(null, written, 'order-1')).toBe('paid');
      expect(await store.documents.get(null, written, 'order-2')).toBe('shipped');
      expect(await store.documents.count(null, journalOf(name))).toBe(0);
      await Promise.all([other.close(), restarted.close()]);
    });

    it('keeps acknowledged writes through a failed flush and writes them on the next', async () => {
      const errors: unknown[] = [];
      let failing = true;
      const writeBack = writeBackOf(store, {
        onFlushError: (error) => errors.push(error),
        flush: async (tx, entries) => {
          if (failing) throw new Error('the table is locked');
          await store.documents.putMany(
            tx,
            written,
            entries.map(({ key, value }) => ({ id: key, document: value })),
          );
        },
      });
      await writeBack.start();
      await writeBack.write('late', 'still here');
      await expect(writeBack.flush()).rejects.toThrow('the table is locked');
      expect(errors).toHaveLength(1);
      expect(writeBack.pending('late')).toBe('still here');
      failing = false;
      expect(await writeBack.flush()).toBe(1);
      expect(await store.documents.get(null, written, 'late')).toBe('still here');
      await writeBack.close();
      await expect(writeBack.write('late', 'closed')).rejects.toThrow(/closed/);
    });
  });
}

describeWriteBack('SQLite', async () =>
  createSqliteStore({ filename: join(mkdtempSync(join(tmpdir(), 'causeway-wb-')), 'store.db') }),
);

describeWithService('postgres', 'write-back on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('write_back_unit');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeWriteBack('PostgreSQL', () =>
    createPostgresStore({ connectionString: database.url, schema: 'write_back' }),
  );
});
