/**
 * Reads the run log back: one run by id, and each model's latest run and test results. Reads go
 * through the lakehouse's read connection, so they never wait behind a run in progress.
 */
import type { Lakehouse, LakehouseRow, LakehouseSession } from '../lakehouse.ts';
import type { Project } from './project.ts';
import type {
  ModelDescription,
  ModelRunResult,
  ModelRunStatus,
  RunResult,
  RunStatus,
  TestResult,
  TestStatus,
} from './run-result.ts';

/** The run as logged, or null when no run has that id. */
export async function readRun(lakehouse: Lakehouse, runId: string): Promise<RunResult | null> {
  return lakehouse.read(async (session) => {
    if (!(await hasRunLog(session))) return null;
    const [run] = await session.all('SELECT * FROM meta.runs WHERE run_id = $1', [runId]);
    if (run === undefined) return null;
    const models = await session.all('SELECT * FROM meta.model_runs WHERE run_id = $1 ORDER BY rowid', [
      runId,
    ]);
    const tests = await session.all('SELECT * FROM meta.test_results WHERE run_id = $1 ORDER BY rowid', [
      runId,
    ]);
    return {
      runId,
      status: run.status as RunStatus,
      startedAt: isoOf(run.started_at)!,
      endedAt: isoOf(run.ended_at),
      selection: String(run.selection ?? '')
        .split(' ')
        .filter((selector) => selector !== ''),
      fullRefresh: run.full_refresh === true,
      models: models.map(modelRunOf),
      tests: tests.map(testResultOf),
    };
  });
}

/** Every model of the project in build order, with its latest logged run and test statuses. */
export async function describeModels(lakehouse: Lakehouse, project: Project): Promise<ModelDescription[]> {
  const { lastRuns, lastTests } = await lakehouse.read(async (session) => {
    if (!(await hasRunLog(session))) return { lastRuns: new Map(), lastTests: new Map() };
    return {
      lastRuns: await latestBy(session, 'model_runs', 'model'),
      lastTests: await latestBy(session, 'test_results', 'test'),
    };
  });
  return project.order.map((name) => {
    const model = project.models.get(name)!;
    const lastRun = lastRuns.get(name);
    return {
      name,
      layer: model.layer,
      materialized: model.materialized,
      description: model.description ?? null,
      tags: [...(model.tags ?? [])],
      dependsOn: [...model.dependsOn],
      lastRun:
        lastRun === undefined
          ? null
          : {
              status: lastRun.status as ModelRunStatus,
              rows: (lastRun.rows as number | null) ?? null,
              startedAt: isoOf(lastRun.started_at),
              endedAt: isoOf(lastRun.ended_at),
            },
      tests: project.tests
        .filter((test) => test.model === name)
        .map((test) => ({
          name: test.name,
          status: (lastTests.get(test.name)?.status as TestStatus) ?? null,
        })),
    };
  });
}

async function hasRunLog(session: LakehouseSession): Promise<boolean> {
  const rows = await session.all(
    `SELECT 1 FROM information_schema.tables
     WHERE table_catalog = current_database() AND table_schema = 'meta' AND table_name = 'test_results'`,
  );
  return rows.length > 0;
}

/** The last row logged for each value of `column` (rowid order is insertion order: the log is append-only). */
async function latestBy(
  session: LakehouseSession,
  table: 'model_runs' | 'test_results',
  column: 'model' | 'test',
): Promise<Map<string, LakehouseRow>> {
  const rows = await session.all(
    `SELECT * FROM meta.${table} QUALIFY row_number() OVER (PARTITION BY ${column} ORDER BY rowid DESC) = 1`,
  );
  return new Map(rows.map((row) => [String(row[column]), row]));
}

function modelRunOf(row: LakehouseRow): ModelRunResult {
  return {
    model: String(row.model),
    relation: String(row.relation),
    status: row.status as ModelRunStatus,
    rows: (row.rows as number | null) ?? null,
    startedAt: isoOf(row.started_at),
    endedAt: isoOf(row.ended_at),
    error: (row.error as string | null) ?? null,
  };
}

function testResultOf(row: LakehouseRow): TestResult {
  return {
    test: String(row.test),
    model: (row.model as string | null) ?? null,
    severity: row.severity as TestResult['severity'],
    status: row.status as TestStatus,
    failures: (row.failures as number | null) ?? null,
    sample: row.sample === null ? [] : (JSON.parse(String(row.sample)) as LakehouseRow[]),
    error: (row.error as string | null) ?? null,
  };
}

function isoOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}
