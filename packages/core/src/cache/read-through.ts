/**
 * Read-through over any Cache: a miss is loaded once per key however many readers wait for it
 * (in this process by sharing the load, across processes by the cache's loader lock), the value
 * is cached at the version it was read at with a TTL spread by jitter (so keys cached together do
 * not expire together), a stale value is served while one reader reloads it, and "not found" is
 * cached too, for less time. A cache that fails is a miss: the source answers, and `onCacheError`
 * hears of it.
 */
import type { Cache } from './cache.ts';

/** What the loader read: the value (null: not found) and the source version it was read at. */
export interface Loaded<T> {
  value: T | null;
  version: number;
}

export interface ReadThroughOptions<T> {
  cache: Cache;
  /** Reads the source. */
  load(key: string): Promise<Loaded<T>>;
  /** How long a value lives (ms). */
  ttlMs: number;
  /** Spread each TTL by up to ± this share (default 0.1). */
  jitter?: number;
  /** How long a value is fresh (default: `ttlMs`); after, it is served while one reader reloads it. */
  freshMs?: number;
  /** How long "not found" is cached (default: a tenth of `ttlMs`; 0: not cached). */
  notFoundTtlMs?: number;
  /** How long a loader may hold a key's lock (default 5 s). */
  lockMs?: number;
  /** How long a reader waits for another process's load before loading itself (default 2 s). */
  waitForOthersMs?: number;
  onCacheError?(error: unknown): void;
}

/** Where a read's value came from: the cache (fresh or stale) or the source. */
export type ReadSource = 'hit' | 'stale' | 'miss';

export interface ReadThrough<T> {
  /** The value (null: not found), from the cache or the source. */
  get(key: string): Promise<T | null>;
  /** The same, saying where the value came from. */
  read(key: string): Promise<{ value: T | null; from: ReadSource }>;
  /**
   * The value at once when a cache in this process holds it fresh (a hit with no await, for hot
   * loops); undefined when it cannot answer now: call `get`.
   */
  peek(key: string): T | null | undefined;
  /** How each `get` was answered since the reader was made. */
  readonly stats: { hits: number; stale: number; misses: number; loads: number; cacheErrors: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createReadThrough<T>(options: ReadThroughOptions<T>): ReadThrough<T> {
  const { cache } = options;
  const jitter = options.jitter ?? 0.1;
  const lockMs = options.lockMs ?? 5_000;
  const waitForOthersMs = options.waitForOthersMs ?? 2_000;
  const notFoundTtlMs = options.notFoundTtlMs ?? Math.round(options.ttlMs / 10);
  const loading = new Map<string, Promise<T | null>>();
  const stats = { hits: 0, stale: 0, misses: 0, loads: 0, cacheErrors: 0 };

  const spread = (ms: number) => Math.max(1, Math.round(ms * (1 + jitter * (2 * Math.random() - 1))));

  async function safely<R>(work: () => Promise<R>, fallback: R): Promise<R> {
    try {
      return await work();
    } catch (error) {
      stats.cacheErrors += 1;
      options.onCacheError?.(error);
      return fallback;
    }
  }

  async function loadAndStore(key: string): Promise<T | null> {
    stats.loads += 1;
    const loaded = await options.load(key);
    const ttlMs = spread(loaded.value === null ? notFoundTtlMs : options.ttlMs);
    if (loaded.value !== null || notFoundTtlMs > 0) {
      const freshMs = options.freshMs === undefined ? ttlMs : Math.min(ttlMs, spread(options.freshMs));
      await safely(() => cache.set(key, loaded.value, { ttlMs, version: loaded.version, freshMs }), false);
    }
    return loaded.value;
  }

  /** One load per key in this process; across processes, the holder of the key's lock loads. */
  function loadOnce(key: string): Promise<T | null> {
    const running = loading.get(key);
    if (running) return running;
    const load = (async () => {
      const token = await safely(() => cache.lock(key, lockMs), undefined);
      // The cache is out of reach: no one can share a load through it, so load.
      if (token === undefined) return loadAndStore(key);
      if (token !== null) {
        try {
          return await loadAndStore(key);
        } finally {
          await safely(() => cache.unlock(key, token), undefined);
        }
      }
      // Another process loads it: wait for its value, then load ourselves if it does not come.
      const deadline = Date.now() + waitForOthersMs;
      for (let pause = 10; Date.now() < deadline; pause = Math.min(pause * 2, 200)) {
        await sleep(pause);
        const entry = await safely(() => cache.get<T | null>(key), undefined);
        if (entry) return entry.value;
      }
      return loadAndStore(key);
    })().finally(() => loading.delete(key));
    loading.set(key, load);
    return load;
  }

  function peek(key: string): T | null | undefined {
    const entry = cache.peekFresh?.<T | null>(key);
    if (entry === undefined) return undefined;
    stats.hits += 1;
    return entry.value;
  }

  async function read(key: string): Promise<{ value: T | null; from: ReadSource }> {
    const entry = await safely(() => cache.get<T | null>(key), undefined);
    if (entry === undefined) {
      stats.misses += 1;
      return { value: await loadOnce(key), from: 'miss' };
    }
    if (entry.freshUntil >= Date.now()) {
      stats.hits += 1;
      return { value: entry.value, from: 'hit' };
    }
    stats.stale += 1;
    // Stale: answered now, reloaded behind it by one reader.
    loadOnce(key).catch((error) => options.onCacheError?.(error));
    return { value: entry.value, from: 'stale' };
  }

  return {
    stats,
    read,
    peek,
    get(key) {
      const value = peek(key);
      return value === undefined ? read(key).then((answer) => answer.value) : Promise.resolve(value);
    },
  };
}
