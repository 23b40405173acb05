/**
 * The store bench (`npm run bench -- store [--quick]`): Causeway's append, catch-up, rebuild and
 * read-your-writes figures on PostgreSQL and SQLite, each against the same work done with the
 * plain driver. See docs in bench/store/*-baseline.ts for what each baseline does.
 */
import type { BenchOptions } from '../support/bench-options.ts';
import type { Figure } from '../support/report.ts';
import { runPostgresBench } from './postgres-suite.ts';
import { runSqliteBench } from './sqlite-suite.ts';

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  return [...(await runPostgresBench(options)), ...(await runSqliteBench(options))];
}
