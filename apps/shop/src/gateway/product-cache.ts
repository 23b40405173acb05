/**
 * The catalog's part of product reads (sku, name, price, sales rank) through the Cache port: an
 * in-process LRU by default, Redis when configured, read through for a minute (spread by jitter).
 * Entries carry the product stream's version (the catalog's ETag); `catalog.ProductUpdated`
 * invalidates at its version, so a read of the old product that answers late cannot put it back;
 * `catalog.SalesRankChanged` drops the entry (ranks are not in the stream). The stock is never
 * cached: GET /products/:id reads it from the orders service's replica on every request. Redis out
 * of reach: reads come from the catalog, and an alert says so once per outage.
 */
import {
  type Cache,
  createMemoryCache,
  createReadThrough,
  type ReadSource,
  type ReadThrough,
  withOutageReporting,
} from '@causeway/core';
import { createRedisCache } from '@causeway/redis';
import { Redis } from 'ioredis';
import type { ShopConfig } from '../config.ts';
import { log } from '../platform/log.ts';
import type { ServiceAnswer } from '../platform/service-client.ts';

const ttlMs = 60_000;

/** The catalog answered something other than the product: the gateway sends that answer on. */
class CatalogAnswer extends Error {
  constructor(readonly answer: ServiceAnswer) {
    super(`the catalog answered ${answer.status}`);
  }
}

export interface ProductCache {
  /** The catalog's answer for the product, and whether the cache had it. */
  read(productId: string): Promise<{ answer: ServiceAnswer; cache: 'hit' | 'miss' }>;
  /** The product changed at `version` (its stream's), or in some other way (no version). */
  invalidate(productId: string, version?: number): Promise<void>;
  /** The cache itself, for the event handlers that invalidate it. */
  readonly cache: Cache;
  /** How long an entry (or an invalidation's version) lives. */
  readonly ttlMs: number;
  /** How its reads were answered since the process started (for `/metrics`). */
  readonly stats: ReadThrough<unknown>['stats'];
}

/**
 * The gateway's cache, for product reads (keys: product ids) and Idempotency-Keys (keys prefixed
 * `idempotency`): Redis when configured (one for every gateway process), else the in-process LRU. Redis's client fails a call at once while Redis is away (the
 * catalog answers instead) and reconnects every half second; the outage and the return are each
 * logged once, as alerts.
 */
export async function openGatewayCache(config: ShopConfig): Promise<Cache> {
  if (config.cache !== 'redis') return createMemoryCache();
  const client = new Redis(config.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 500,
  });
  client.on('error', () => {});
  // Down at start-up: the gateway starts anyway, on the catalog, and says so below.
  await Promise.race([
    client.connect().catch(() => {}),
    new Promise((resolve) => setTimeout(resolve, 2_000)),
  ]);
  return withOutageReporting(createRedisCache({ client, prefix: 'shop:gateway:', closeClient: true }), {
    onDown: (error) =>
      log.error(
        `ALERT gateway cache (Redis at ${config.redisUrl}) out of reach: reading products from the catalog and Idempotency-Keys from the database until it is back (${String(error)})`,
      ),
    onUp: (outageMs) => log.error(`gateway cache (Redis) is back after ${Math.round(outageMs / 1000)} s`),
  });
}

export function createProductCache(
  cache: Cache,
  fetchProduct: (productId: string) => Promise<ServiceAnswer>,
): ProductCache {
  const reader = createReadThrough<unknown>({
    cache,
    ttlMs,
    // A product not found is not cached: it may be created a moment later.
    notFoundTtlMs: 0,
    async load(productId) {
      const answer = await fetchProduct(productId);
      if (answer.status !== 200) throw new CatalogAnswer(answer);
      const version = Number(answer.headers.get('etag')?.replaceAll('"', '') ?? 0);
      return { value: answer.body, version: Number.isFinite(version) ? version : 0 };
    },
  });
  const fromOf = (from: ReadSource) => (from === 'miss' ? 'miss' : 'hit');

  return {
    cache,
    ttlMs,
    stats: reader.stats,
    async read(productId) {
      try {
        const { value, from } = await reader.read(productId);
        return { answer: { status: 200, body: value, headers: new Headers() }, cache: fromOf(from) };
      } catch (error) {
        if (error instanceof CatalogAnswer) return { answer: error.answer, cache: 'miss' };
        throw error;
      }
    },
    invalidate: (productId, version) =>
      cache.invalidate(productId, version === undefined ? undefined : { version, ttlMs }),
  };
}
