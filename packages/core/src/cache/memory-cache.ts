/**
 * The in-process Cache (the embedded default): an LRU of at most `maxEntries`, each entry with its
 * own TTL. Shared by nothing but this process, so its locks and versions hold within it only.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Cache, CacheEntry } from './cache.ts';

interface Stored {
  /** Absent for an invalidation, which only remembers its version. */
  readonly entry?: CacheEntry<unknown>;
  readonly version: number;
  /** The entry stays fresh until it expires: the LRU's own TTL check answers freshness. */
  readonly freshToTheEnd?: boolean;
}

export function createMemoryCache(options: { maxEntries?: number; name?: string } = {}): Cache {
  const entries = new LRUCache<string, Stored>({ max: options.maxEntries ?? 10_000, ttlAutopurge: false });
  const locks = new Map<string, { token: string; until: number }>();

  return {
    name: options.name ?? 'memory',
    async get<T>(key: string) {
      return entries.get(key)?.entry as CacheEntry<T> | undefined;
    },
    peekFresh<T>(key: string) {
      const stored = entries.get(key);
      // Most entries are fresh for their whole life: no clock read beyond the LRU's (a cached one).
      if (stored?.freshToTheEnd || (stored?.entry && stored.entry.freshUntil >= Date.now())) {
        return stored.entry as CacheEntry<T> | undefined;
      }
      return undefined;
    },
    async set(key, value, { ttlMs, version = 0, freshMs }) {
      const current = entries.get(key);
      if (current && current.version > version) return false;
      const freshToTheEnd = freshMs === undefined || freshMs >= ttlMs;
      const freshUntil = Date.now() + (freshToTheEnd ? ttlMs : freshMs);
      entries.set(key, { entry: { value, version, freshUntil }, version, freshToTheEnd }, { ttl: ttlMs });
      return true;
    },
    async invalidate(key, invalidation) {
      if (!invalidation) {
        entries.delete(key);
        return;
      }
      // A late or repeated invalidation leaves a value read at or after its version (or an
      // invalidation as new) where it is.
      if ((entries.get(key)?.version ?? -1) >= invalidation.version) return;
      entries.set(key, { version: invalidation.version }, { ttl: invalidation.ttlMs });
    },
    async lock(key, ttlMs) {
      const held = locks.get(key);
      if (held && held.until > Date.now()) return null;
      const token = randomUUID();
      locks.set(key, { token, until: Date.now() + ttlMs });
      return token;
    },
    async unlock(key, token) {
      if (locks.get(key)?.token === token) locks.delete(key);
    },
    async close() {
      entries.clear();
      locks.clear();
    },
  };
}
