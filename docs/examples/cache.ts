import { createMemoryCache, createReadThrough, createWriteBack } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';

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

// #region write-back
// Write-back: a write is acknowledged once the service's own store journals it (group commit), and
// reaches its table in batches, flushed in the transaction that clears the journal. A crash loses
// no acknowledged write; the next start() of the same owner flushes what the journal held.
const store = await createSqliteStore({ filename: ':memory:' });
await store.transaction((tx) => tx.execute('CREATE TABLE views (id TEXT PRIMARY KEY, n INTEGER NOT NULL)'));
const views = createWriteBack<number>({
  store,
  name: 'views',
  merge: (pending, next) => pending + next, // counters: pending writes to one key add up
  flush: async (tx, entries) => {
    for (const { key, value } of entries) {
      await tx.execute(
        'INSERT INTO views (id, n) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET n = views.n + excluded.n',
        [key, value],
      );
    }
  },
});
await views.start();
await Promise.all(Array.from({ length: 500 }, () => views.write('mug', 1)));
console.log(views.stats.journalCommits < 500, views.pending('mug')); // true 500
await views.flush();
const [row] = await store.transaction((tx) => tx.query<{ n: number }>('SELECT n FROM views'));
console.log(row?.n, views.pending('mug')); // 500 undefined
await views.close();
await store.close();
// #endregion
