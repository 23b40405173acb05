/**
 * The gateway's Idempotency-Keys (SHOP-API): a POST with a key runs once; the same key and body get
 * the first answer again, the same key with another body is a 409. A key lives `ttlMs` (a day by
 * default, as payment APIs keep theirs), then it may be used afresh.
 *
 * A key's record is written through: to the gateway's store, which survives restarts and is pruned
 * of expired keys, then to the Cache, so a client's retries are answered without the database and,
 * with Redis, by every gateway process. One request works on a key at a time: in this process by a
 * chain per key, across processes by the key's lock in the cache; the others wait and get the first
 * answer. A cache out of reach costs the sharing, not the answer: the store is read instead.
 */

import { createHash } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import type { Cache, Store } from '@causeway/core';
import { consistencyHeader } from '../platform/consistency-token.ts';
import { log } from '../platform/log.ts';
import { ConflictError } from '../platform/problem.ts';
import type { ServiceAnswer } from '../platform/service-client.ts';

const collection = 'idempotency_keys';
/** How long a request may hold its key's lock (the service calls it makes time out sooner). */
const lockMs = 30_000;
const pruneEveryMs = 60 * 60_000;

interface KeyRecord {
  bodyHash: string;
  status: number;
  body: unknown;
  consistencyToken: string | null;
  /** Ms since the epoch; records written before keys expired have none and count as expired. */
  expiresAt?: number;
}

export interface IdempotencyOptions {
  store: Store;
  cache: Cache;
  ttlMs: number;
  onCacheError?(error: unknown): void;
}

export interface Idempotency {
  /** Runs `work` once per key (see above); answers 5xx are not kept, so a retry may succeed. */
  run(key: string, body: unknown, work: () => Promise<ServiceAnswer>): Promise<ServiceAnswer>;
  /** Deletes the expired keys' records; answers how many. */
  prune(): Promise<number>;
  close(): void;
}

const cacheKey = (key: string) => `idempotency:${key}`;
const lockKey = (key: string) => `idempotency-lock:${key}`;
const live = (record: KeyRecord | null | undefined, now = Date.now()) =>
  record && record.expiresAt !== undefined && record.expiresAt > now ? record : null;

export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const { store, cache, ttlMs } = options;
  const chains = new Map<string, Promise<ServiceAnswer>>();
  const cacheFailed = (error: unknown) => {
    options.onCacheError?.(error);
    return undefined;
  };

  async function recorded(key: string): Promise<KeyRecord | null> {
    const cached = await cache.get<KeyRecord>(cacheKey(key)).catch(cacheFailed);
    if (cached) return live(cached.value);
    return live(await store.documents.get<KeyRecord>(null, collection, key));
  }

  async function remember(key: string, record: KeyRecord & { expiresAt: number }): Promise<void> {
    await store.transaction((tx) => store.documents.put(tx, collection, key, record));
    await cache
      .set(cacheKey(key), record, { ttlMs: Math.max(1, record.expiresAt - Date.now()) })
      .catch(cacheFailed);
  }

  /** The key's lock across processes: its token, or undefined when the cache cannot lend one. */
  async function lockAcrossProcesses(key: string): Promise<string | undefined> {
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const token = await cache.lock(lockKey(key), lockMs).catch(cacheFailed);
      if (token !== null) return token;
      await pause(wait); // another process works on this key: its lock ends with its answer
    }
  }

  async function runAlone(key: string, body: unknown, work: () => Promise<ServiceAnswer>) {
    const bodyHash = createHash('sha256')
      .update(JSON.stringify(body ?? null))
      .digest('hex');
    const token = await lockAcrossProcesses(key);
    try {
      const record = await recorded(key);
      if (record) {
        if (record.bodyHash !== bodyHash)
          throw new ConflictError(`Idempotency-Key ${key} was used with another body`);
        const headers = new Headers(
          record.consistencyToken ? { [consistencyHeader]: record.consistencyToken } : {},
        );
        return { status: record.status, body: record.body, headers };
      }
      const answer = await work();
      if (answer.status < 500) {
        await remember(key, {
          bodyHash,
          status: answer.status,
          body: answer.body,
          consistencyToken: answer.headers.get(consistencyHeader),
          expiresAt: Date.now() + ttlMs,
        });
      }
      return answer;
    } finally {
      if (token !== undefined) await cache.unlock(lockKey(key), token).catch(cacheFailed);
    }
  }

  async function prune(): Promise<number> {
    let pruned = 0;
    let afterId: string | undefined;
    for (;;) {
      const page = await store.documents.find<KeyRecord>(null, collection, { limit: 500, afterId });
      if (page.length === 0) return pruned;
      afterId = page.at(-1)!.id;
      const now = Date.now();
      const expired = page.filter(({ document }) => !live(document, now)).map(({ id }) => id);
      if (expired.length > 0) {
        pruned += await store.transaction((tx) => store.documents.deleteMany(tx, collection, expired));
      }
    }
  }

  const pruning = setInterval(
    () => prune().catch((error) => log.error(`pruning idempotency keys failed: ${String(error)}`)),
    Math.min(ttlMs, pruneEveryMs),
  );
  pruning.unref();

  return {
    run(key, body, work) {
      const previous = chains.get(key);
      const running = (previous ?? Promise.resolve()).catch(() => {}).then(() => runAlone(key, body, work));
      chains.set(key, running);
      return running.finally(() => {
        if (chains.get(key) === running) chains.delete(key);
      });
    },
    prune,
    close: () => clearInterval(pruning),
  };
}
