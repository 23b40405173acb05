import { createMemoryCache, createReadThrough } from '@causeway/core';

// #region cache
// Read-through over the Cache port (in-process here; createRedisCache from @causeway/redis shares
// it between processes): one load per key however many readers miss at once, values cached at the
// version they were read at, and an invalidation at a version that no late reader can undo.
const cache = createMemoryCache();
let loads = 0;
const products = createReadThrough<{ id: string; priceCents: number }>({
  cache,
  ttlMs: 60_000, // spread by ±10 % so that keys cached together do not expire together
  freshMs: 30_000, // after 30 s: served stale while one reader reloads
  load: async (id) => {
    loads += 1;
    return { value: { id, priceCents: 450 }, version: 1 }; // e.g. the product stream's version
  },
});
await Promise.all(Array.from({ length: 100 }, () => products.get('mug')));
// The product changed at version 2 (e.g. its event arrived): drop it, and refuse version-1 values.
await cache.invalidate('mug', { version: 2, ttlMs: 60_000 });
const late = await cache.set('mug', { id: 'mug', priceCents: 450 }, { ttlMs: 60_000, version: 1 });
console.log(loads, late); // 1 false
// #endregion
