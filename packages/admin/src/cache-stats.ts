/**
 * The `caches` view: each cache a service reports, with the counters its reader keeps since it was
 * made, read at the moment of the request (nothing is sampled or stored between requests).
 */
import type { ReadThrough, WriteBack } from '@causeway/core';

/** A read-through reader's or a write-back's counters; the reader itself fits (`{ stats }`). */
export type ReportedCache = Pick<ReadThrough<unknown>, 'stats'> | Pick<WriteBack<unknown>, 'stats'>;

type ReadThroughStats = ReadThrough<unknown>['stats'];
type WriteBackStats = WriteBack<unknown>['stats'];

/** One row of `GET <base>/api/caches`. */
export type CacheView =
  | ({ name: string; kind: 'read-through'; hitRatio: number | null } & ReadThroughStats)
  | ({ name: string; kind: 'write-back'; hitRatio: null } & WriteBackStats);

const isWriteBack = (stats: ReportedCache['stats']): stats is WriteBackStats => 'writes' in stats;

/**
 * Each cache's counters by name, in the order given. The hit ratio counts fresh hits only, over
 * every read (hit, stale, miss), as `causeway_cache_reads_total{result="hit"}` over all its results
 * does in Prometheus: a stale read is answered from the cache but costs a reload. It is null before
 * the first read, and for a write-back, which is never read through.
 */
export function cacheViews(caches: Readonly<Record<string, ReportedCache>>): CacheView[] {
  return Object.entries(caches).map(([name, { stats }]) => {
    if (isWriteBack(stats)) {
      const { writes, journalCommits, flushes, flushedKeys } = stats;
      return { name, kind: 'write-back', writes, journalCommits, flushes, flushedKeys, hitRatio: null };
    }
    const { hits, stale, misses, loads, cacheErrors } = stats;
    const reads = hits + stale + misses;
    return {
      name,
      kind: 'read-through',
      hits,
      stale,
      misses,
      loads,
      cacheErrors,
      hitRatio: reads === 0 ? null : hits / reads,
    };
  });
}
