/**
 * A latency histogram kept in memory: counts per bucket since the process started, and
 * percentiles over the most recent samples (a ring), so a slow minute shows instead of being
 * averaged away by hours of fast ones.
 */

/** Upper bounds in milliseconds; the last bucket takes everything above the last bound. */
export const defaultBucketsMs = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

export interface HistogramSnapshot {
  buckets: Array<{ upToMs: number | null; count: number }>;
  count: number;
  /** Over the recent samples only; null before the first sample. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  recentSamples: number;
}

export function createLatencyHistogram(options: { bucketsMs?: readonly number[]; recent?: number } = {}) {
  const bounds = options.bucketsMs ?? defaultBucketsMs;
  const counts = new Array<number>(bounds.length + 1).fill(0);
  const ring = new Array<number>(options.recent ?? 2_048);
  let recorded = 0;

  return {
    record(ms: number): void {
      const value = Math.max(0, ms);
      const index = bounds.findIndex((bound) => value <= bound);
      counts[index === -1 ? bounds.length : index]!++;
      ring[recorded % ring.length] = value;
      recorded++;
    },
    snapshot(): HistogramSnapshot {
      const recent = ring.slice(0, Math.min(recorded, ring.length)).sort((a, b) => a - b);
      const at = (fraction: number) =>
        recent.length === 0
          ? null
          : recent[Math.min(recent.length - 1, Math.ceil(fraction * recent.length) - 1)]!;
      return {
        buckets: counts.map((count, index) => ({ upToMs: bounds[index] ?? null, count })),
        count: recorded,
        p50Ms: at(0.5),
        p95Ms: at(0.95),
        p99Ms: at(0.99),
        maxMs: recent.length === 0 ? null : recent[recent.length - 1]!,
        recentSamples: recent.length,
      };
    },
  };
}

export type LatencyHistogram = ReturnType<typeof createLatencyHistogram>;
