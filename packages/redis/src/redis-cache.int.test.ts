import { randomUUID } from 'node:crypto';
import { createReadThrough, StoreFailureError } from '@causeway/core';
import { describeCacheConformance, describeWithService, serviceUrl } from '@causeway/testing';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { createRedisCache } from './redis-cache.ts';

describeWithService('redis', 'the Redis cache', () => {
  // One prefix per run: the clients of a test share it, as the processes of a deployment do.
  const prefix = `causeway-test-${randomUUID()}:`;
  describeCacheConformance(
    'Redis',
    async () => createRedisCache({ client: new Redis(serviceUrl('redis')), prefix, closeClient: true }),
    { shared: true },
  );

  it('fails each call with a StoreFailureError naming Redis when it is out of reach; read-through falls back to the source', async () => {
    // A port nothing listens on, and a client that does not retry: Redis down.
    const client = new Redis({
      port: 1,
      host: '127.0.0.1',
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    const cache = createRedisCache({ client, prefix });
    await expect(cache.get('k')).rejects.toThrow(StoreFailureError);
    await expect(cache.get('k')).rejects.toThrow(/Redis/);
    const errors: unknown[] = [];
    const reader = createReadThrough({
      cache,
      ttlMs: 1_000,
      load: async (key) => ({ value: `from the source: ${key}`, version: 1 }),
      onCacheError: (error) => errors.push(error),
    });
    expect(await reader.get('k')).toBe('from the source: k');
    expect(reader.stats).toMatchObject({ misses: 1, loads: 1 });
    expect(errors.length).toBeGreaterThan(0);
    client.disconnect();
  });
});
