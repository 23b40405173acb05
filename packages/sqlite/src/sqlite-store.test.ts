import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigurationError,
  InvalidArgumentError,
  newMessageId,
  type Store,
  StoreFailureError,
  StoreUnavailableError,
  type Transaction,
} from '@causeway/core';
import { describeStoreConformance } from '@causeway/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './index.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-sqlite-'));
let fileCount = 0;
function freshFile(): string {
  fileCount += 1;
  return join(directory, `store-${fileCount}.db`);
}
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeStoreConformance('sqlite', () => createSqliteStore({ filename: freshFile() }));
describeStoreConformance('sqlite in memory', () => createSqliteStore({ filename: ':memory:' }));

function event(streamId: string) {
  return {
    id: newMessageId(),
    type: 'Tested',
    schemaVersion: 1,
    streamId,
    correlationId: null,
    causationId: null,
    occurredAt: new Date().toISOString(),
    metadata: {},
    data: {},
  };
}

async function withStore<T>(store: Store, work: (store: Store) => Promise<T>): Promise<T> {
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describe('sqlite store: several processes writing one file', () => {
  const workers = 8;
  const appendsPerWorker = 40;

  it('queues writers on the lock: no lock errors, every event stored, each stream in order', async () => {
    const filename = freshFile();
    await withStore(await createSqliteStore({ filename }), async (store) => {
      const exits = await Promise.all(
        Array.from({ length: workers }, (_, index) => runWorker(filename, index, appendsPerWorker)),
      );
      expect(exits).toEqual(Array.from({ length: workers }, () => ({ code: 0, stderr: '' })));
      const { events } = await store.events.readAll({ position: 0 }, { limit: 100_000 });
      const sharedPerWorker = appendsPerWorker / 2;
      expect(events).toHaveLength(workers * (appendsPerWorker + sharedPerWorker));
      const lastPosition = new Map<string, number>();
      for (const stored of events) {
        expect(stored.streamPosition).toBe((lastPosition.get(stored.streamId) ?? 0) + 1);
        lastPosition.set(stored.streamId, stored.streamPosition);
      }
      expect(lastPosition.get('shared')).toBe(workers * sharedPerWorker);
      for (let index = 0; index < workers; index += 1) {
        expect(await store.events.streamVersion(null, `worker-${index}`)).toBe(appendsPerWorker);
      }
    });
  });
});

function runWorker(
  filename: string,
  index: number,
  appends: number,
): Promise<{ code: number | null; stderr: string }> {
  const script = fileURLToPath(new URL('./test-support/append-worker.ts', import.meta.url));
  const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@causeway/source', script, filename, String(index), String(appends)],
    {
      cwd: repositoryRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('sqlite store: table prefixes', () => {
  it('keeps stores with different prefixes in one file apart', async () => {
    const filename = freshFile();
    const [first, second] = await Promise.all([
      createSqliteStore({ filename, tablePrefix: 'first_' }),
      createSqliteStore({ filename, tablePrefix: 'second_' }),
    ]);
    try {
      const streamId = 'same-stream';
      await first.transaction((tx) =>
        first.events.append(tx, { streamId, expectedVersion: 'noStream', events: [event(streamId)] }),
      );
      await second.transaction((tx) =>
        second.events.append(tx, {
          streamId,
          expectedVersion: 'noStream',
          events: [event(streamId), event(streamId)],
        }),
      );
      expect(await first.events.streamVersion(null, streamId)).toBe(1);
      expect(await second.events.streamVersion(null, streamId)).toBe(2);
      await first.transaction((tx) => first.documents.put(tx, 'things', 'one', { owner: 'first' }));
      expect(await second.documents.get(null, 'things', 'one')).toBeNull();
      const tables = new Database(filename, { readonly: true })
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%events'",
        )
        .all()
        .map((row) => row.name);
      expect(tables.sort()).toEqual(['first_events', 'second_events']);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('refuses a prefix that is not a plain identifier', async () => {
    await expect(
      createSqliteStore({ filename: freshFile(), tablePrefix: 'x; DROP TABLE y' }),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('sqlite store: crypto-shredding', () => {
  it('leaves no trace of a destroyed key in the database file', async () => {
    const filename = freshFile();
    // Longer than a real key, so the smaller row written in its place cannot cover it by chance.
    const key = randomBytes(512);
    const secret = key.subarray(240, 272);
    const checkpointedFile = (): Buffer => {
      const db = new Database(filename, { timeout: 5_000 });
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      return Buffer.concat([readFileSync(filename), readFileSync(`${filename}-wal`, { flag: 'a+' })]);
    };
    await withStore(await createSqliteStore({ filename }), async (store) => {
      // Neighbours on the same page: SQLite then frees the row's space instead of rebuilding the page.
      for (let index = 0; index < 20; index += 1) {
        await store.keys.getOrCreateKey(null, `subject-${index}`, index === 10 ? key : randomBytes(32));
      }
      expect(checkpointedFile().includes(secret)).toBe(true);
      await store.transaction((tx) => store.keys.destroyKey(tx, 'subject-10'));
      expect(checkpointedFile().includes(secret)).toBe(false);
    });
  });
});

describe('sqlite store: errors and misuse', () => {
  it('reports a write lock held too long as StoreUnavailableError saying what to do', async () => {
    const filename = freshFile();
    await withStore(await createSqliteStore({ filename, busyTimeoutMs: 50 }), async (store) => {
      const blocker = new Database(filename);
      blocker.exec('BEGIN IMMEDIATE');
      try {
        const failure = store.transaction((tx) => store.documents.put(tx, 'c', 'id', {}));
        await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(failure).rejects.toThrow(/busyTimeoutMs/);
      } finally {
        blocker.exec('ROLLBACK');
        blocker.close();
      }
      await store.transaction((tx) => store.documents.put(tx, 'c', 'id', {}));
    });
  });

  it('maps a failing statement to StoreFailureError with the driver error as cause', async () => {
    await withStore(await createSqliteStore({ filename: freshFile() }), async (store) => {
      const failure = store.transaction((tx) => tx.query('SELECT * FROM no_such_table WHERE id = $1', [1]));
      await expect(failure).rejects.toBeInstanceOf(StoreFailureError);
      await expect(failure).rejects.toMatchObject({
        cause: expect.objectContaining({ code: 'SQLITE_ERROR' }),
      });
    });
  });

  it('refuses a nested transaction instead of waiting for itself', async () => {
    await withStore(await createSqliteStore({ filename: freshFile() }), async (store) => {
      const nested = store.transaction(() => store.transaction(async () => 1));
      await expect(nested).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  });

  it('refuses a transaction handle used after its transaction ended', async () => {
    await withStore(await createSqliteStore({ filename: freshFile() }), async (store) => {
      let leaked: Transaction | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(store.documents.put(leaked!, 'c', 'id', {})).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(leaked!.query('SELECT 1')).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  });

  it('fails calls after close with StoreUnavailableError', async () => {
    const store = await createSqliteStore({ filename: freshFile() });
    await store.close();
    await expect(store.events.headPosition()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.transaction(async () => 1)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('wakes listeners when another connection commits', async () => {
    const filename = freshFile();
    const [listening, writing] = [
      await createSqliteStore({ filename }),
      await createSqliteStore({ filename }),
    ];
    try {
      let calls = 0;
      const unsubscribe = listening.subscribeToChanges(() => {
        calls += 1;
      });
      await writing.transaction((tx) =>
        writing.events.append(tx, { streamId: 's', expectedVersion: 'any', events: [event('s')] }),
      );
      await expect.poll(() => calls, { timeout: 1_000 }).toBeGreaterThan(0);
      unsubscribe();
    } finally {
      await Promise.all([listening.close(), writing.close()]);
    }
  });
});
