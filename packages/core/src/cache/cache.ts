/**
 * The Cache port: key/value with a TTL, shared by the processes of a deployment (Redis) or kept in
 * one process (the in-memory LRU). Entries carry the version of the source they were read at, so
 * that a slow reader never puts back a value older than one already cached or invalidated.
 */

/** A cached value and the source version it was read at. */
export interface CacheEntry<T> {
  readonly value: T;
  readonly version: number;
  /** Until when (ms since the epoch) the value is fresh; after it, it may be served while it is reloaded. */
  readonly freshUntil: number;
}

export interface CacheSetOptions {
  /** How long the entry lives (ms). */
  ttlMs: number;
  /** The source version the value was read at (default 0: no versioning). */
  version?: number;
  /** How long the value is fresh (ms, default `ttlMs`); between the two it is stale but servable. */
  freshMs?: number;
}

export interface Cache {
  readonly name: string;
  /** The entry, or undefined when there is none (absent, expired or invalidated). */
  get<T>(key: string): Promise<CacheEntry<T> | undefined>;
  /**
   * The entry if it is fresh now, without waiting: only a cache in this process has it (absent on
   * shared caches). Read-through answers such a hit with no promise in between; undefined says
   * nothing (absent or stale): ask `get`.
   */
  peekFresh?<T>(key: string): CacheEntry<T> | undefined;
  /**
   * Stores the value unless the key holds a newer version (an entry or an invalidation): answers
   * whether it was stored. A reader that loaded before a change was made cannot undo its invalidation.
   */
  set<T>(key: string, value: T, options: CacheSetOptions): Promise<boolean>;
  /**
   * Drops the entry. With a `version`, remembers it for `ttlMs`: a later `set` of an older
   * version is refused (the source changed at `version`; whoever read before that is late), and an
   * entry read at `version` or later is left in place (a late or repeated invalidation).
   */
  invalidate(key: string, options?: { version: number; ttlMs: number }): Promise<void>;
  /**
   * Takes the key's loader lock for `ttlMs` if no one holds it: answers the holder's token, or
   * null. One loader per key across the processes sharing this cache (stampede protection).
   */
  lock(key: string, ttlMs: number): Promise<string | null>;
  /** Gives the lock back, if `token` still holds it. */
  unlock(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}
