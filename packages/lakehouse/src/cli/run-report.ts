/**
 * What `causeway-lakehouse` prints on stdout: after a run, its models, its tests (with the failing
 * rows a test kept) and a summary naming the run id; for `models`, the DAG with each last run.
 */
import type { LakehouseRow } from '../lakehouse.ts';
import type { ModelDescription, ModelRunResult, RunResult, TestResult } from '../models/run-result.ts';
import { formatCell, formatTable } from './text-table.ts';

/** The run's report, models in build order, then tests in the order they ran. */
export function formatRunReport(run: RunResult): string[] {
  return [...modelLines(run.models), '', ...testLines(run.tests), '', summaryLine(run)];
}

function modelLines(models: readonly ModelRunResult[]): string[] {
  if (models.length === 0) return ['Models: none selected'];
  const table = formatTable(
    [
      { header: 'model' },
      { header: 'status' },
      { header: 'rows', align: 'right' },
      { header: 'seconds', align: 'right' },
      { header: 'relation' },
    ],
    models.map((model) => [
      model.model,
      model.status,
      model.rows === null ? '-' : String(model.rows),
      model.status === 'skipped' ? '-' : secondsBetween(model.startedAt, model.endedAt),
      model.relation,
    ]),
  );
  const problems = models
    .filter((model) => model.error !== null)
    .map((model) => `  ${model.model} ${model.status}: ${model.error}`);
  return ['Models', ...table, ...(problems.length === 0 ? [] : ['', ...problems])];
}

function testLines(tests: readonly TestResult[]): string[] {
  if (tests.length === 0) return ['Tests: none ran'];
  const table = formatTable(
    [
      { header: 'test' },
      { header: 'status' },
      { header: 'failures', align: 'right' },
      { header: 'severity' },
    ],
    tests.map((test) => [
      test.test,
      test.status,
      test.failures === null ? '-' : String(test.failures),
      test.severity,
    ]),
  );
  return ['Tests', ...table, ...tests.flatMap(testDetails)];
}

/** Why a test did not pass: its error, or the failing rows it kept (up to five). */
function testDetails(test: TestResult): string[] {
  if (test.status === 'pass') return [];
  const lines = ['', `  ${test.test} ${test.status}${test.error === null ? '' : `: ${test.error}`}`];
  if (test.sample.length === 0) return lines;
  const shown = test.sample.slice(0, 5);
  const heading =
    test.failures !== null && test.failures > shown.length
      ? `    ${shown.length} of ${test.failures} failing rows:`
      : `    failing rows:`;
  return [...lines, heading, ...sampleTable(shown)];
}

function sampleTable(rows: readonly LakehouseRow[]): string[] {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return formatTable(
    columns.map((header) => ({ header })),
    rows.map((row) => columns.map((column) => formatCell(row[column]))),
    '      ',
  );
}

function summaryLine(run: RunResult): string {
  const built = run.models.filter((model) => model.status === 'success').length;
  const count = (status: TestResult['status']) => run.tests.filter((test) => test.status === status).length;
  const tests = [
    `${count('pass')} passed`,
    ...(['fail', 'warn', 'error', 'skipped'] as const)
      .filter((status) => count(status) > 0)
      .map((status) => `${count(status)} ${status === 'fail' ? 'failed' : status}`),
  ];
  const seconds = secondsBetween(run.startedAt, run.endedAt);
  return (
    `Run ${run.runId} ${run.status === 'success' ? 'succeeded' : run.status}: ` +
    `${built} of ${run.models.length} models built; tests: ${tests.join(', ')}; ${seconds} s`
  );
}

/** The `models` command: the DAG in build order with each model's last run and test statuses. */
export function formatModelList(models: readonly ModelDescription[]): string[] {
  if (models.length === 0) return ['The project has no models.'];
  return formatTable(
    [
      { header: 'model' },
      { header: 'layer' },
      { header: 'materialized' },
      { header: 'depends on' },
      { header: 'last run' },
      { header: 'rows', align: 'right' },
      { header: 'tests' },
    ],
    models.map((model) => [
      model.name,
      model.layer,
      model.materialized,
      model.dependsOn.length === 0 ? '-' : model.dependsOn.join(', '),
      model.lastRun?.status ?? 'never',
      model.lastRun?.rows === null || model.lastRun === null ? '-' : String(model.lastRun.rows),
      testCounts(model.tests),
    ]),
  );
}

function testCounts(tests: ModelDescription['tests']): string {
  if (tests.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const test of tests)
    counts.set(test.status ?? 'not run', (counts.get(test.status ?? 'not run') ?? 0) + 1);
  return [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
}

function secondsBetween(startedAt: string | null, endedAt: string | null): string {
  if (startedAt === null || endedAt === null) return '-';
  return ((Date.parse(endedAt) - Date.parse(startedAt)) / 1000).toFixed(2);
}
