import { performance } from 'node:perf_hooks';
import { startProgress } from './progress.ts';

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const yieldEveryMs = 20;

export interface ThroughputOptions {
  label: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
}

/**
 * Runs `operation` in `concurrency` loops: first for the warm-up, then for the measured window.
 * Only operations that finish inside the window count; each returns how many units it did.
 */
export async function measureThroughput(
  operation: (loop: number) => Promise<number>,
  options: ThroughputOptions,
): Promise<number> {
  let units = 0;
  let measuring = false;
  let stopped = false;
  let lastYield = performance.now();
  const loops = Array.from({ length: options.concurrency }, async (_, loop) => {
    while (!stopped) {
      const done = await operation(loop);
      if (measuring && !stopped) units += done;
      // Synchronous drivers (better-sqlite3) never give the timers a turn on their own.
      if (performance.now() - lastYield > yieldEveryMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  });
  const failed = Promise.all(loops).then(() => {});
  const progress = startProgress(options.label, (options.warmupMs + options.durationMs) / 1000, ' s');
  const begun = performance.now();
  const ticker = setInterval(() => progress.update((performance.now() - begun) / 1000), 200);
  let elapsedMs = 0;
  try {
    await Promise.race([pause(options.warmupMs), failed]);
    measuring = true;
    const start = performance.now();
    await Promise.race([pause(options.durationMs), failed]);
    stopped = true;
    elapsedMs = performance.now() - start;
    await failed;
  } finally {
    stopped = true;
    clearInterval(ticker);
    progress.stop();
  }
  return units / (elapsedMs / 1000);
}

export interface LatencySummary {
  p50: number;
  p99: number;
}

/**
 * Takes `samples` latencies (each `sample` returns the milliseconds it measured), with a short
 * pause between them so every sample starts from idle. A tenth of the samples warm up first.
 */
export async function measureLatency(
  sample: () => Promise<number>,
  options: { label: string; samples: number; pauseMs: number },
): Promise<LatencySummary> {
  const warmup = Math.max(3, Math.round(options.samples / 10));
  const latencies: number[] = [];
  const progress = startProgress(options.label, warmup + options.samples);
  try {
    for (let index = 0; index < warmup + options.samples; index++) {
      await pause(options.pauseMs);
      const ms = await sample();
      if (index >= warmup) latencies.push(ms);
      progress.update(index + 1);
    }
  } finally {
    progress.stop();
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Milliseconds `work` took. */
export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}
