/**
 * `causeway cache stats`: a running service's caches as its `@causeway/admin` API reports them
 * (`GET <base>/api/caches`), with each reader's counters since it was made. The counters live in
 * the service's process, not in its database, so this needs `--url`, never `--db`.
 */
import type { Listing } from './output.ts';

/** One cache as the admin API answers it (`CacheView` in @causeway/admin). */
export type CacheStats =
  | {
      name: string;
      kind: 'read-through';
      hits: number;
      stale: number;
      misses: number;
      loads: number;
      cacheErrors: number;
      /** Fresh hits over all reads; null before the first read. */
      hitRatio: number | null;
    }
  | {
      name: string;
      kind: 'write-back';
      writes: number;
      journalCommits: number;
      flushes: number;
      flushedKeys: number;
      hitRatio: null;
    };

/** A ratio as a percentage with one decimal, or `-` when there was nothing to divide. */
export function percentage(ratio: number | null): string {
  return ratio === null ? '-' : `${(ratio * 100).toFixed(1)}%`;
}

/** A table per kind present: read-through caches first, then write-backs. */
export function cacheListings(items: readonly CacheStats[]): Listing[] {
  const listings: Listing[] = [];
  const readThrough = items.filter((item) => item.kind === 'read-through');
  const writeBack = items.filter((item) => item.kind === 'write-back');
  if (readThrough.length > 0) {
    listings.push({
      columns: ['cache', 'kind', 'hits', 'stale', 'misses', 'loads', 'errors', 'hitRatio'],
      rows: readThrough.map((item) => ({
        cache: item.name,
        kind: item.kind,
        hits: item.hits,
        stale: item.stale,
        misses: item.misses,
        loads: item.loads,
        errors: item.cacheErrors,
        hitRatio: percentage(item.hitRatio),
      })),
      footer:
        'hitRatio: fresh hits over all reads (a stale read is served, then reloaded); since the service started',
    });
  }
  if (writeBack.length > 0) {
    listings.push({
      columns: ['cache', 'kind', 'writes', 'journalCommits', 'flushes', 'flushedKeys'],
      rows: writeBack.map(({ name, kind, writes, journalCommits, flushes, flushedKeys }) => ({
        cache: name,
        kind,
        writes,
        journalCommits,
        flushes,
        flushedKeys,
      })),
    });
  }
  return listings;
}
