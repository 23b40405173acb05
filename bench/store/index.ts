/**
 * The store bench (`npm run bench -- store [--quick]`): Causeway's append, catch-up, rebuild and
 * read-your-writes figures on PostgreSQL and SQLite, each against the same work done with the
 * plain driver. See docs in bench/store/*-baseline.ts for what each baseline does.
 * BENCH_STORES=sqlite,postgres picks stores.
 */
import type { BenchOptions } from '../support/bench-options.ts';
import type { Figure } from '../support/report.ts';
import { chosenFrom } from '../support/selection.ts';
import { runPostgresBench } from './postgres-suite.ts';
import { runSqliteBench } from './sqlite-suite.ts';

const suites = { postgres: runPostgresBench, sqlite: runSqliteBench };

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const store of chosenFrom('BENCH_STORES', ['postgres', 'sqlite'] as const)) {
    figures.push(...(await suites[store](options)));
  }
  return figures;
}
