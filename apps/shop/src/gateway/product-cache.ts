/**
 * Cache-aside for the catalog's part of product reads (sku, name, price): an in-process LRU by
 * default, Redis when configured. Entries are dropped on every catalog change (and expire after a
 * minute, in case an invalidation is lost). The stock is never cached: GET /products/:id reads it
 * from the orders service's replica on every request.
 */
import { LRUCache } from 'lru-cache';
import type { ShopConfig } from '../config.ts';

const ttlMs = 60_000;

export interface ProductCache {
  get(id: string): Promise<unknown | undefined>;
  set(id: string, product: unknown): Promise<void>;
  invalidate(id: string): Promise<void>;
}

export function createProductCache(config: ShopConfig): ProductCache {
  if (config.cache === 'redis') return createRedisCache(config.redisUrl);
  const lru = new LRUCache<string, object>({ max: 10_000, ttl: ttlMs });
  return {
    get: async (id) => lru.get(id),
    set: async (id, product) => void lru.set(id, product as object),
    invalidate: async (id) => void lru.delete(id),
  };
}

function createRedisCache(url: string): ProductCache {
  const client = import('ioredis').then(
    ({ Redis }) => new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 }),
  );
  const key = (id: string) => `shop:product:${id}`;
  return {
    async get(id) {
      const text = await (await client).get(key(id)).catch(() => null);
      return text ? JSON.parse(text) : undefined;
    },
    async set(id, product) {
      await (await client).set(key(id), JSON.stringify(product), 'PX', ttlMs).catch(() => {});
    },
    async invalidate(id) {
      await (await client).del(key(id));
    },
  };
}
