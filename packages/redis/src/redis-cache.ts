/**
 * The Cache port on Redis, shared by every process of a deployment. An entry is one string,
 * `<version>:<fresh-until>:<value as JSON>`, with the key's TTL, so a hit costs one GET, as a raw
 * read of the value would; an invalidation is `<version>:` alone. The version check and the write are
 * one Lua script, so two processes racing to cache a key cannot both win with an older version.
 * Loader locks are `SET NX PX`, released only by their holder's token (a script too).
 */
import { randomUUID } from 'node:crypto';
import { type Cache, type CacheEntry, StoreFailureError } from '@causeway/core';
import type { Redis } from 'ioredis';

// ARGV[1] version, ARGV[2] ttl ms, ARGV[3] the entry string (absent: an invalidation).
const setIfNotOlder = `
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%d+):'))
  if version > tonumber(ARGV[1]) then return 0 end
  -- An invalidation at a version leaves what was read at that version (or invalidated at it) in place.
  if not ARGV[3] and version == tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3] or (ARGV[1] .. ':'), 'PX', ARGV[2])
return 1`;

/** The entry a stored string holds, or undefined for an invalidation. */
function parseEntry<T>(stored: string): CacheEntry<T> | undefined {
  const versionEnd = stored.indexOf(':');
  const freshEnd = stored.indexOf(':', versionEnd + 1);
  if (freshEnd < 0) return undefined;
  return {
    version: Number(stored.slice(0, versionEnd)),
    freshUntil: Number(stored.slice(versionEnd + 1, freshEnd)),
    value: JSON.parse(stored.slice(freshEnd + 1)) as T,
  };
}

const unlockIfHolder = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisCacheOptions {
  /** The caller's client (ioredis); the cache does not close it unless `closeClient` says so. */
  client: Redis;
  /** Prefixed to every key, so that several caches (or apps) share one Redis. */
  prefix?: string;
  closeClient?: boolean;
}

export function createRedisCache(options: RedisCacheOptions): Cache {
  const { client } = options;
  const prefix = options.prefix ?? 'causeway:';
  const entryKey = (key: string) => `${prefix}s:${key}`;
  const lockKey = (key: string) => `${prefix}l:${key}`;

  async function redis<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new StoreFailureError(
        'Redis',
        `${what}: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
  }

  return {
    name: 'redis',
    get: <T>(key: string) =>
      redis('get', async () => {
        const stored = await client.get(entryKey(key));
        return stored === null ? undefined : parseEntry<T>(stored);
      }),
    set: (key, value, { ttlMs, version = 0, freshMs }) =>
      redis('set', async () => {
        const freshUntil = Date.now() + Math.min(freshMs ?? ttlMs, ttlMs);
        const stored = await client.eval(
          setIfNotOlder,
          1,
          entryKey(key),
          version,
          Math.max(1, Math.round(ttlMs)),
          `${version}:${freshUntil}:${JSON.stringify(value)}`,
        );
        return stored === 1;
      }),
    invalidate: (key, invalidation) =>
      redis('invalidate', async () => {
        if (!invalidation) {
          await client.del(entryKey(key));
          return;
        }
        await client.eval(
          setIfNotOlder,
          1,
          entryKey(key),
          invalidation.version,
          Math.max(1, Math.round(invalidation.ttlMs)),
        );
      }),
    lock: (key, ttlMs) =>
      redis('lock', async () => {
        const token = randomUUID();
        const taken = await client.set(lockKey(key), token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
        return taken === 'OK' ? token : null;
      }),
    unlock: (key, token) =>
      redis('unlock', async () => {
        await client.eval(unlockIfHolder, 1, lockKey(key), token);
      }),
    async close() {
      if (options.closeClient) await client.quit().catch(() => client.disconnect());
    },
  };
}
