/**
 * A read-through cache's answers as counters, from the reader's own stats at scrape time: the hit
 * ratio is `rate(causeway_cache_reads_total{result="hit"}[5m]) / rate(causeway_cache_reads_total[5m])`.
 */
import type { ReadThrough } from '@causeway/core';
import { Counter, type Registry } from 'prom-client';

type Stats = ReadThrough<unknown>['stats'];

/** The counters of one registry, and the readers reported into it. */
interface CacheCounters {
  readers: Array<{ cache: string; stats: Stats; counted: Stats }>;
}

const countersOf = new WeakMap<Registry, CacheCounters>();

export function reportReadThrough(
  registry: Registry,
  cache: string,
  reader: Pick<ReadThrough<unknown>, 'stats'>,
): void {
  const counters = countersOf.get(registry) ?? register(registry);
  counters.readers.push({
    cache,
    stats: reader.stats,
    counted: { hits: 0, stale: 0, misses: 0, loads: 0, cacheErrors: 0 },
  });
}

function register(registry: Registry): CacheCounters {
  const counters: CacheCounters = { readers: [] };
  /** Adds to `counter` what each reader's `field` grew by since the last scrape (each counter its own fields). */
  const catchUp = (counter: Counter<string>, field: keyof Stats, labels: Record<string, string> = {}) => {
    for (const { cache, stats, counted } of counters.readers) {
      counter.inc({ cache, ...labels }, stats[field] - counted[field]);
      counted[field] = stats[field];
    }
  };
  const registers = [registry];
  new Counter({
    name: 'causeway_cache_reads_total',
    help: 'Reads of a read-through cache, by cache and how each was answered: hit, stale (answered, reloaded behind it) or miss.',
    labelNames: ['cache', 'result'],
    registers,
    collect() {
      catchUp(this, 'hits', { result: 'hit' });
      catchUp(this, 'stale', { result: 'stale' });
      catchUp(this, 'misses', { result: 'miss' });
    },
  });
  new Counter({
    name: 'causeway_cache_loads_total',
    help: 'Loads from the source a read-through cache ran (one per key however many readers missed).',
    labelNames: ['cache'],
    registers,
    collect() {
      catchUp(this, 'loads');
    },
  });
  new Counter({
    name: 'causeway_cache_errors_total',
    help: 'Cache calls that failed (the source answered instead).',
    labelNames: ['cache'],
    registers,
    collect() {
      catchUp(this, 'cacheErrors');
    },
  });
  countersOf.set(registry, counters);
  return counters;
}
