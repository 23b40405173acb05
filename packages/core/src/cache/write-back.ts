/**
 * Write-back over the service's own Store: a write is acknowledged once it is in a durable journal
 * (a document per key in the store, written by group commit: the writes that arrive while one
 * journal transaction runs go together in the next), and reaches its real table later, in batches,
 * where `flush` writes a batch in the same transaction that clears those keys from the journal.
 * So a SIGKILL at any moment loses no acknowledged write and applies none twice: after a restart
 * `start()` reads the journal back and flushes it.
 *
 * Writes to one key are combined while they wait: by default the later value replaces the earlier;
 * with `merge` (a counter's sum, say) they are merged. The journal is keyed by `owner` too, so that
 * several processes writing back under one name each keep their own pending writes; a process
 * restarted under the same owner picks its journal up.
 */
import { createGroupCommitter } from '../batching/index.ts';
import type { Store, Transaction } from '../store/index.ts';

export interface WriteBackOptions<T> {
  store: Store;
  /** Names the journal (a document collection): one per kind of write. */
  name: string;
  /** This process's part of the journal (default `'default'`): unique per concurrently running process. */
  owner?: string;
  /** Combines a pending value with a later write to the same key (default: the later one wins). */
  merge?(pending: T, next: T): T;
  /** Writes a batch to its table, in the transaction that clears it from the journal. */
  flush(tx: Transaction, entries: ReadonlyArray<{ key: string; value: T }>): Promise<void>;
  /** How often pending writes are flushed (ms, default 1,000). */
  flushEveryMs?: number;
  /** Flush as soon as this many keys are pending, and at most this many per transaction (default 1,000). */
  maxBatch?: number;
  /** Hears of a flush that failed (it is tried again on the next tick; nothing is lost). */
  onFlushError?(error: unknown): void;
}

export interface WriteBack<T> {
  /** Reads the journal back (writes acknowledged before a crash) and starts flushing on a timer. */
  start(): Promise<void>;
  /** Resolves once the write is durable: from then on, no crash loses it. */
  write(key: string, value: T): Promise<void>;
  /** The key's acknowledged value not yet flushed (combined), if any. */
  pending(key: string): T | undefined;
  /**
   * The key's value with its pending writes: `readFlushed` reads what the table holds, while no
   * flush moves writes from the journal to the table (so none is counted twice or missed).
   */
  read(key: string, readFlushed: () => Promise<T | undefined>): Promise<T | undefined>;
  /** Flushes every pending write now; answers how many keys it wrote. */
  flush(): Promise<number>;
  readonly stats: { writes: number; journalCommits: number; flushes: number; flushedKeys: number };
  /** Flushes what is pending and stops. */
  close(): Promise<void>;
}

type Request<T> = { kind: 'write'; key: string; value: T } | { kind: 'flush' };

interface Journaled<T> {
  owner: string;
  value: T;
}

export function createWriteBack<T>(options: WriteBackOptions<T>): WriteBack<T> {
  const { store } = options;
  const collection = `write-back:${options.name}`;
  const owner = options.owner ?? 'default';
  const maxBatch = options.maxBatch ?? 1_000;
  const flushEveryMs = options.flushEveryMs ?? 1_000;
  const merge = options.merge ?? ((_pending: T, next: T) => next);
  const documentId = (key: string) => `${owner}/${key}`;
  /** Acknowledged, not yet flushed: what the journal holds for this owner. */
  const pendingWrites = new Map<string, T>();
  const stats = { writes: 0, journalCommits: 0, flushes: 0, flushedKeys: 0 };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function journal(writes: ReadonlyArray<{ key: string; value: T }>): Promise<void> {
    const combined = new Map<string, T>();
    for (const { key, value } of writes) {
      const before = combined.get(key) ?? pendingWrites.get(key);
      combined.set(key, before === undefined ? value : merge(before, value));
    }
    const entries = [...combined].map(([key, value]) => ({
      id: documentId(key),
      document: { owner, value } satisfies Journaled<T>,
    }));
    await store.transaction((tx) => store.documents.putMany(tx, collection, entries));
    stats.journalCommits += 1;
    for (const [key, value] of combined) pendingWrites.set(key, value);
  }

  // Flushes and reads of table-plus-pending take turns.
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<R>(work: () => Promise<R>): Promise<R> {
    const run = turn.then(work);
    turn = run.catch(() => {});
    return run;
  }

  const flushPending = () => exclusive(flushAll);

  async function flushAll(): Promise<number> {
    let written = 0;
    while (pendingWrites.size > 0) {
      const batch = [...pendingWrites].slice(0, maxBatch).map(([key, value]) => ({ key, value }));
      await store.transaction(async (tx) => {
        await options.flush(tx, batch);
        await store.documents.deleteMany(
          tx,
          collection,
          batch.map(({ key }) => documentId(key)),
        );
      });
      // Journal commits and flushes take turns (one committer), so nothing was written to these
      // keys between reading the batch and clearing it.
      for (const { key } of batch) pendingWrites.delete(key);
      stats.flushes += 1;
      stats.flushedKeys += batch.length;
      written += batch.length;
    }
    return written;
  }

  // One committer for the journal and the flushes: they never interleave.
  const commit = createGroupCommitter<Request<T>, number>(
    async (requests) => {
      const writes = requests.filter((request) => request.kind === 'write');
      if (writes.length > 0) await journal(writes);
      // The writes are durable now: a failed flush fails only the requests that asked for it.
      let flushed: number | Error = 0;
      if (requests.some((request) => request.kind === 'flush')) {
        flushed = await flushPending().catch((error: unknown) =>
          error instanceof Error ? error : new Error(String(error)),
        );
      }
      if (pendingWrites.size >= maxBatch) requestFlush().catch(() => {});
      return requests.map((request) => (request.kind === 'flush' ? flushed : 0));
    },
    { maxBatch: 4 * maxBatch },
  );

  function requestFlush(): Promise<number> {
    return commit({ kind: 'flush' }).catch((error: unknown) => {
      options.onFlushError?.(error);
      throw error;
    });
  }

  async function recover(): Promise<void> {
    const prefix = `${owner}/`;
    let afterId: string | undefined;
    for (;;) {
      const page = await store.documents.find<Journaled<T>>(null, collection, {
        where: { owner },
        limit: 1_000,
        afterId,
      });
      for (const { id, document } of page) pendingWrites.set(id.slice(prefix.length), document.value);
      if (page.length < 1_000) return;
      afterId = page.at(-1)?.id;
    }
  }

  return {
    stats,
    async start() {
      await recover();
      if (pendingWrites.size > 0) await requestFlush();
      timer = setInterval(() => {
        if (pendingWrites.size > 0) requestFlush().catch(() => {});
      }, flushEveryMs);
      timer.unref();
    },
    async write(key, value) {
      if (closed) throw new Error(`write-back ${options.name} is closed`);
      await commit({ kind: 'write', key, value });
      stats.writes += 1;
    },
    pending: (key) => pendingWrites.get(key),
    read: (key, readFlushed) =>
      exclusive(async () => {
        const flushed = await readFlushed();
        const pending = pendingWrites.get(key);
        if (pending === undefined) return flushed;
        return flushed === undefined ? pending : merge(flushed, pending);
      }),
    flush: requestFlush,
    async close() {
      closed = true;
      clearInterval(timer);
      await requestFlush().catch(() => {});
    },
  };
}
