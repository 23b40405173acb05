/**
 * A read-through cache's answers as counters, from the reader's own stats at scrape time: the hit
 * ratio is `rate(causeway_cache_reads_total{result="hit"}[5m]) / rate(causeway_cache_reads_total[5m])`.
 */
import type { ReadThrough } from '@causeway/core';
import { Counter, type Registry } from 'prom-client';

const results = ['hit', 'stale', 'miss'] as const;

export function reportReadThrough(
  registry: Registry,
  cache: string,
  reader: Pick<ReadThrough<unknown>, 'stats'>,
): void {
  const reads = counterIn(
    registry,
    'causeway_cache_reads_total',
    'Reads of a read-through cache, by cache and how each was answered: hit, stale (answered, reloaded behind it) or miss.',
    ['cache', 'result'],
  );
  const loads = counterIn(
    registry,
    'causeway_cache_loads_total',
    'Loads from the source a read-through cache ran (one per key however many readers missed).',
    ['cache'],
  );
  const errors = counterIn(
    registry,
    'causeway_cache_errors_total',
    'Cache calls that failed (the source answered instead).',
    ['cache'],
  );
  const counted = { hit: 0, stale: 0, miss: 0, loads: 0, errors: 0 };
  const sources: Array<() => void> = (collectors.get(registry) ??
    collectors.set(registry, []).get(registry))!;
  sources.push(() => {
    const { hits, stale, misses, loads: loaded, cacheErrors } = reader.stats;
    const now = { hit: hits, stale, miss: misses, loads: loaded, errors: cacheErrors };
    for (const result of results) reads.inc({ cache, result }, now[result] - counted[result]);
    loads.inc({ cache }, now.loads - counted.loads);
    errors.inc({ cache }, now.errors - counted.errors);
    Object.assign(counted, now);
  });
  for (const result of results) reads.inc({ cache, result }, 0);
  loads.inc({ cache }, 0);
  errors.inc({ cache }, 0);
}

/** Every reader reported into a registry is read once per scrape, by the first of the counters. */
const collectors = new WeakMap<Registry, Array<() => void>>();

function counterIn(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name) as Counter<string> | undefined;
  if (existing) return existing;
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    ...(name === 'causeway_cache_reads_total'
      ? {
          collect() {
            for (const read of collectors.get(registry) ?? []) read();
          },
        }
      : {}),
  });
}
