/**
 * The Cache port on Redis, shared by every process of a deployment. An entry is a hash
 * (`v` version, `p` the value as JSON, `f` fresh-until) with the key's TTL; an invalidation is the
 * same hash without `p`. The version check and the write are one Lua script, so two processes
 * racing to cache a key cannot both win with an older version. Loader locks are `SET NX PX`,
 * released only by their holder's token (a script too).
 */
import { randomUUID } from 'node:crypto';
import { type Cache, type CacheEntry, StoreFailureError } from '@causeway/core';
import type { Redis } from 'ioredis';

// Keys: ARGV[1] version, ARGV[2] ttl ms, ARGV[3] value JSON (absent: an invalidation), ARGV[4] fresh-until.
const setIfNotOlder = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
-- An invalidation at a version leaves what was read at that version (or invalidated at it) in place.
if current and not ARGV[3] and tonumber(current) == tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[3] then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'p', ARGV[3], 'f', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

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
  const entryKey = (key: string) => `${prefix}e:${key}`;
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
        const [version, payload, freshUntil] = await client.hmget(entryKey(key), 'v', 'p', 'f');
        if (payload === null || payload === undefined) return undefined;
        return {
          value: JSON.parse(payload) as T,
          version: Number(version),
          freshUntil: Number(freshUntil),
        } satisfies CacheEntry<T>;
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
          JSON.stringify(value),
          freshUntil,
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
