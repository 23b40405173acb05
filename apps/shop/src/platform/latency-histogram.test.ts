import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from './latency-histogram.ts';

describe('latency histogram', () => {
  it('counts each sample in the first bucket whose bound holds it, the rest in the last', () => {
    const histogram = createLatencyHistogram({ bucketsMs: [10, 100] });
    for (const ms of [0, 10, 11, 100, 101, 5_000, -3]) histogram.record(ms);
    expect(histogram.snapshot().buckets).toEqual([
      { upToMs: 10, count: 3 },
      { upToMs: 100, count: 2 },
      { upToMs: null, count: 2 },
    ]);
  });

  it('gives percentiles of the recent samples, nothing before the first', () => {
    const histogram = createLatencyHistogram({ recent: 100 });
    expect(histogram.snapshot()).toMatchObject({ count: 0, p50Ms: null, maxMs: null });
    for (let ms = 1; ms <= 100; ms++) histogram.record(ms);
    expect(histogram.snapshot()).toMatchObject({ count: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100 });
  });

  it('forgets old samples in the percentiles but keeps them in the counts', () => {
    const histogram = createLatencyHistogram({ recent: 10 });
    for (let i = 0; i < 10; i++) histogram.record(5_000);
    for (let i = 0; i < 10; i++) histogram.record(1);
    const snapshot = histogram.snapshot();
    expect(snapshot).toMatchObject({ count: 20, p99Ms: 1, maxMs: 1, recentSamples: 10 });
    expect(snapshot.buckets.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(20);
  });
});
