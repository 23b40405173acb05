/**
 * The lakehouse bench (`npm run bench -- lakehouse [--quick]`), on embedded DuckDB files in the
 * temporary directory:
 * - bronze_ingest: rows/s of `bronze.ingest` beside the raw DuckDB appender (bronze-ingest.ts);
 * - gold_build_1m: a full build of the shop's dbt project over 1,000,000 order lines (20,000 with
 *   --quick) beside the same SQL run by hand (gold-build.ts);
 * - freshness_p50/p99: an order's commit in the shop → counted in gold, under the shop's load
 *   (freshness.ts; builds the shop first, as `npm run load` needs).
 * BENCH_LAKEHOUSE=bronze,gold,freshness picks parts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from '../support/bench-options.ts';
import type { Figure } from '../support/report.ts';
import { chosenFrom } from '../support/selection.ts';
import { measureBronzeIngest } from './bronze-ingest.ts';
import { measureFreshness } from './freshness.ts';
import { measureGoldBuild } from './gold-build.ts';

const parts = ['bronze', 'gold', 'freshness'] as const;

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  const chosen = chosenFrom('BENCH_LAKEHOUSE', parts);
  const directory = mkdtempSync(join(tmpdir(), 'causeway-bench-lakehouse-'));
  const figures: Figure[] = [];
  try {
    if (chosen.includes('bronze')) figures.push(await measureBronzeIngest(options, directory));
    if (chosen.includes('gold')) figures.push(await measureGoldBuild(options, directory));
    if (chosen.includes('freshness')) figures.push(...(await measureFreshness(options)));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return figures;
}
