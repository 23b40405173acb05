/**
 * Event-driven invalidation across instances: each instance's consumer of a source's events drops
 * the entry the event makes wrong. Entries are invalidated at the event's stream position (the
 * source's version after the change), so a reader that loaded the old value and comes back after the
 * event cannot put it back, whichever of the two reaches the cache first. A cache out of reach
 * fails the handler: the consumer retries the event, and the entry expires by its TTL meanwhile.
 */
import type { Cache } from './cache.ts';

export interface InvalidateOnEventOptions<E> {
  /** The cache key the event makes wrong. */
  keyOf(event: E): string;
  /**
   * The source version the event brings the key to (default: the event's stream position), or
   * null for a change the version does not count (the entry is dropped, no version remembered).
   */
  versionOf?(event: E): number | null;
  /** How long a version is remembered: the readers' TTL, so no late value outlives it. */
  ttlMs: number;
}

/** A consumer handler that invalidates the event's key at its version. */
export function invalidateOnEvent<E extends { streamPosition: number }>(
  cache: Cache,
  options: InvalidateOnEventOptions<E>,
): (event: E) => Promise<void> {
  const versionOf = options.versionOf ?? ((event: E) => event.streamPosition);
  return async (event) => {
    const version = versionOf(event);
    await cache.invalidate(
      options.keyOf(event),
      version === null ? undefined : { version, ttlMs: options.ttlMs },
    );
  };
}
