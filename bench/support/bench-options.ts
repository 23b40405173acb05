/** How long and how big one bench run is; `--quick` is the CI smoke setting. */
export interface BenchOptions {
  readonly quick: boolean;
  /** Measured time of each throughput point. */
  readonly durationMs: number;
  /** Unmeasured time before each point (connections, JIT, caches). */
  readonly warmupMs: number;
  /** Events seeded before the catch-up and rebuild figures. */
  readonly seedEvents: number;
  /** Samples of each latency figure. */
  readonly latencySamples: number;
}

export function benchOptions(flags: readonly string[]): BenchOptions {
  const quick = flags.includes('--quick');
  return quick
    ? { quick, durationMs: 500, warmupMs: 200, seedEvents: 2_000, latencySamples: 40 }
    : { quick, durationMs: 3_000, warmupMs: 1_000, seedEvents: 50_000, latencySamples: 200 };
}
