/**
 * The run log in the `meta` schema (always `meta`: a run into shadow schemas logs beside the
 * live ones). Each model's row is written in the model's own transaction when it succeeds, so the
 * log never claims a build that was rolled back. The tests' rows are written with the run's end,
 * in one transaction: a commit each would cost a live run more than its tests' queries do.
 */
import type { Lakehouse, LakehouseSession } from '../lakehouse.ts';
import type { ModelRunResult, RunResult, TestResult } from './run-result.ts';

const metaTables = [
  `CREATE TABLE IF NOT EXISTS meta.runs (
     run_id VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP,
     status VARCHAR NOT NULL, selection VARCHAR, full_refresh BOOLEAN NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS meta.model_runs (
     run_id VARCHAR NOT NULL, model VARCHAR NOT NULL, relation VARCHAR NOT NULL, status VARCHAR NOT NULL,
     rows BIGINT, started_at TIMESTAMP, ended_at TIMESTAMP, error VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS meta.test_results (
     run_id VARCHAR NOT NULL, model VARCHAR, test VARCHAR NOT NULL, severity VARCHAR NOT NULL,
     status VARCHAR NOT NULL, failures BIGINT, sample VARCHAR, error VARCHAR)`,
];

async function ensureRunLog(session: LakehouseSession): Promise<void> {
  await session.run('CREATE SCHEMA IF NOT EXISTS meta');
  for (const statement of metaTables) await session.run(statement);
}

/** A timestamp as DuckDB's TIMESTAMP text, in UTC: `2024-05-01 12:00:00.123`. */
export function sqlTimestamp(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

/** Writes the run's row with status `running`, creating the log's tables unless they exist. */
export async function recordRunStarted(lakehouse: Lakehouse, run: RunResult): Promise<void> {
  await lakehouse.transaction(async (session) => {
    await ensureRunLog(session);
    await session.run(`INSERT INTO meta.runs VALUES ($1, CAST($2 AS TIMESTAMP), NULL, 'running', $3, $4)`, [
      run.runId,
      sqlTimestamp(run.startedAt),
      run.selection.join(' '),
      run.fullRefresh,
    ]);
  });
}

/** Writes the run's test results and sets its final status and end time, in one transaction. */
export async function recordRunEnded(lakehouse: Lakehouse, run: RunResult): Promise<void> {
  await lakehouse.transaction(async (session) => {
    if (run.tests.length > 0) await insertTestResults(session, run.runId, run.tests);
    await session.run(
      `UPDATE meta.runs SET status = $1, ended_at = CAST($2 AS TIMESTAMP) WHERE run_id = $3`,
      [run.status, run.endedAt === null ? null : sqlTimestamp(run.endedAt), run.runId],
    );
  });
}

/** Appends one model's outcome, in the caller's transaction. */
export async function recordModelRun(
  session: LakehouseSession,
  runId: string,
  result: ModelRunResult,
): Promise<void> {
  await session.run(
    `INSERT INTO meta.model_runs VALUES ($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMP), CAST($7 AS TIMESTAMP), $8)`,
    [
      runId,
      result.model,
      result.relation,
      result.status,
      result.rows,
      result.startedAt === null ? null : sqlTimestamp(result.startedAt),
      result.endedAt === null ? null : sqlTimestamp(result.endedAt),
      result.error,
    ],
  );
}

const testResultColumns = 8;

/** Appends the tests' outcomes in run order, each with its sample of failing rows as JSON. */
async function insertTestResults(
  session: LakehouseSession,
  runId: string,
  results: readonly TestResult[],
): Promise<void> {
  const rows = results.map((_, row) => {
    const first = row * testResultColumns + 1;
    return `(${Array.from({ length: testResultColumns }, (_, column) => `$${first + column}`).join(', ')})`;
  });
  await session.run(
    `INSERT INTO meta.test_results VALUES ${rows.join(', ')}`,
    results.flatMap((result) => [
      runId,
      result.model,
      result.test,
      result.severity,
      result.status,
      result.failures,
      JSON.stringify(result.sample),
      result.error,
    ]),
  );
}

/**
 * Deletes the log of runs older than the newest `keepRuns`, except each model's and each test's
 * latest row (what `describe` shows) and the runs those belong to: a live runner logs a run every
 * second or so, and the log must not grow with the service's age.
 */
export async function pruneRunLog(lakehouse: Lakehouse, keepRuns: number): Promise<void> {
  const old = `SELECT run_id FROM meta.runs ORDER BY started_at DESC, rowid DESC OFFSET ${keepRuns}`;
  await lakehouse.transaction(async (session) => {
    await session.run(
      `DELETE FROM meta.model_runs WHERE run_id IN (${old})
         AND rowid NOT IN (SELECT max(rowid) FROM meta.model_runs GROUP BY model)`,
    );
    await session.run(
      `DELETE FROM meta.test_results WHERE run_id IN (${old})
         AND rowid NOT IN (SELECT max(rowid) FROM meta.test_results GROUP BY test)`,
    );
    await session.run(
      `DELETE FROM meta.runs WHERE run_id IN (${old})
         AND run_id NOT IN (SELECT run_id FROM meta.model_runs)
         AND run_id NOT IN (SELECT run_id FROM meta.test_results)`,
    );
  });
}
