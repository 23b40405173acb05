/**
 * A Cache that says when it goes out of reach and when it is back, once each: callers already fall
 * back to the source on a failed call, and one alert per outage is what an operator needs (a log
 * line per failed read would drown everything else at a few thousand reads a second).
 */
import type { Cache } from './cache.ts';

export interface OutageReporting {
  /** The first failed call after the cache was reachable. */
  onDown(error: unknown): void;
  /** The first successful call after an outage, and how long it lasted. */
  onUp(outageMs: number): void;
}

export function withOutageReporting(cache: Cache, reporting: OutageReporting): Cache {
  let downSince: number | null = null;

  async function watched<R>(call: () => Promise<R>): Promise<R> {
    const startedAt = Date.now();
    try {
      const result = await call();
      // A call sent before the outage began may still answer after it was noticed: not a return.
      if (downSince !== null && startedAt > downSince) {
        const outageMs = Date.now() - downSince;
        downSince = null;
        reporting.onUp(outageMs);
      }
      return result;
    } catch (error) {
      if (downSince === null) {
        downSince = Date.now();
        reporting.onDown(error);
      }
      throw error;
    }
  }

  return {
    name: cache.name,
    get: (key) => watched(() => cache.get(key)),
    ...(cache.peekFresh ? { peekFresh: cache.peekFresh.bind(cache) } : {}),
    set: (key, value, options) => watched(() => cache.set(key, value, options)),
    invalidate: (key, options) => watched(() => cache.invalidate(key, options)),
    lock: (key, ttlMs) => watched(() => cache.lock(key, ttlMs)),
    unlock: (key, token) => watched(() => cache.unlock(key, token)),
    close: () => cache.close(),
  };
}
