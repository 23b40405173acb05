/**
 * The full gold build: the shop's dbt project (apps/shop/analytics) built from scratch by the
 * model runner (`fullRefresh`: every model, its data tests, the run log), beside the same compiled
 * SQL run by hand on the same DuckDB instance: in DAG order, `CREATE OR REPLACE TABLE <model> AS
 * <its SELECT>` per model, then each data test's failing-rows count. The SQL comes from the
 * project's own templates, rendered as the runner renders them. Bronze is seeded once with the
 * appender; the two builds write to schemas of their own and alternate (hand, ours, ours, hand),
 * so neither always runs on a warmer cache.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BronzeChange,
  createBronze,
  createModelRunner,
  type Lakehouse,
  loadSqlProject,
  openLakehouse,
  type Project,
  type RunResult,
  type SchemaOf,
} from '@causeway/lakehouse';
import { bronzeChangeOfEvent } from '../../apps/shop/src/services/analytics/event-log-source.ts';
import { createRelationResolver } from '../../packages/lakehouse/src/models/references.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { timeMs } from '../support/measure.ts';
import { note, startProgress } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';
import { appendRawChanges } from './raw-bronze.ts';
import { historyOf, linesPerOrder, shopHistory } from './shop-history.ts';

const projectDirectory = fileURLToPath(new URL('../../apps/shop/analytics/', import.meta.url));
const oursSchemaOf: SchemaOf = (layer) => layer;
const handSchemaOf: SchemaOf = (layer) => (layer === 'bronze' ? layer : `hand_${layer}`);

/** Writes the history of `orderLines` lines into bronze.changes with the appender, outside the clock. */
async function seedBronze(lakehouse: Lakehouse, orderLines: number): Promise<number> {
  const bronze = createBronze({ lakehouse });
  await bronze.ensure();
  const history = historyOf(orderLines);
  const progress = startProgress('lakehouse: seeding bronze', history.orders, ' orders');
  let changes = 0;
  await lakehouse.exclusive(async ({ connection }) => {
    const appender = await connection.createAppender('changes', bronze.tables.schema);
    const numbers = { seq: 1n, batchId: 1n, ingestedAtMicros: BigInt(Date.now()) * 1000n };
    const chunk: BronzeChange[] = [];
    let orders = 0;
    const flush = () => {
      appendRawChanges(appender, chunk, numbers);
      changes += chunk.length;
      chunk.length = 0;
      progress.update(orders);
    };
    for (const { service, message } of shopHistory(history)) {
      chunk.push(bronzeChangeOfEvent(service, message));
      if (message.type === 'orders.OrderPlaced') orders += 1;
      if (chunk.length === 10_000) flush();
    }
    flush();
    appender.closeSync();
  });
  progress.stop();
  return changes;
}

/** The runner's full build; throws unless every model built and every error-severity test passed. */
async function buildWithRunner(lakehouse: Lakehouse, project: Project): Promise<void> {
  const runner = createModelRunner({ lakehouse, project, schemaOf: oursSchemaOf });
  const result = await runner.run({ fullRefresh: true });
  if (result.status !== 'success') throw new Error(`The runner's build failed: ${failuresOf(result)}`);
}

function failuresOf(result: RunResult): string {
  const models = result.models.filter((model) => model.status !== 'success');
  const tests = result.tests.filter((test) => test.status === 'fail' || test.status === 'error');
  return [
    ...models.map((model) => `model ${model.model} ${model.status}: ${model.error}`),
    ...tests.map((test) => `test ${test.test} ${test.status} (${test.failures ?? test.error})`),
  ].join('; ');
}

/** The same SQL by hand on the write connection, each statement committing on its own. */
async function buildByHand(lakehouse: Lakehouse, project: Project): Promise<void> {
  const resolver = createRelationResolver({
    layerOf: (name) => project.models.get(name)?.layer,
    schemaOf: handSchemaOf,
  });
  await lakehouse.exclusive(async ({ connection }) => {
    const layers = new Set([...project.models.values()].map((model) => model.layer));
    for (const layer of layers) await connection.run(`CREATE SCHEMA IF NOT EXISTS "${handSchemaOf(layer)}"`);
    for (const name of project.order) {
      const relation = resolver.ref(name);
      const model = project.models.get(name)!;
      const sql = model.sql({ ...resolver, isIncremental: false, this: relation });
      const kind = model.materialized === 'view' ? 'VIEW' : 'TABLE';
      await connection.run(`CREATE OR REPLACE ${kind} ${relation} AS ${sql}`);
    }
    for (const test of project.tests) {
      const failing = `(\n${test.failingRowsSql(resolver).trim().replace(/;+$/, '')}\n) AS failing`;
      const reader = await connection.runAndReadAll(`SELECT count(*) AS n FROM ${failing}`);
      const failures = Number(reader.getRows()[0]![0]);
      if (failures > 0 && test.severity === 'error')
        throw new Error(`The hand-run build's test ${test.name} found ${failures} failing rows`);
    }
  });
}

/** Tables and views, which the hand-run build makes as they are; a snapshot would need its own baseline. */
function checkMaterializations(project: Project): void {
  const others = [...project.models.values()].filter(
    (model) => !['table', 'incremental', 'view'].includes(model.materialized),
  );
  if (others.length > 0)
    throw new Error(
      `The gold build bench builds tables and views by hand; ${others.map((model) => `${model.name} (${model.materialized})`).join(', ')} need their own baseline`,
    );
}

/** Both builds hold every order line and the same confirmed revenue. */
async function checkSameGold(lakehouse: Lakehouse, orderLines: number): Promise<void> {
  const read = async (schema: string) => {
    const [row] = await lakehouse.all<{ lines: number; revenue: number }>(
      `SELECT (SELECT count(*) FROM "${schema}".fct_order_line) AS lines,
              (SELECT sum(revenue_cents) FROM "${schema}".sales_by_day)::DOUBLE AS revenue`,
    );
    return row!;
  };
  const ours = await read(oursSchemaOf('gold'));
  const hand = await read(handSchemaOf('gold'));
  if (ours.lines !== orderLines || hand.lines !== orderLines || ours.revenue !== hand.revenue)
    throw new Error(
      `The builds disagree: ${orderLines} order lines seeded; ours has ${ours.lines} and revenue ${ours.revenue}, by hand ${hand.lines} and ${hand.revenue}`,
    );
}

export async function measureGoldBuild(options: BenchOptions, directory: string): Promise<Figure> {
  const history = historyOf(options.quick ? 20_000 : 1_000_000);
  const orderLines = history.orders * linesPerOrder;
  const project = await loadSqlProject(projectDirectory);
  checkMaterializations(project);
  const lakehouse = await openLakehouse({ path: join(directory, 'gold-build.duckdb'), threads: 2 });
  try {
    const changes = await seedBronze(lakehouse, orderLines);
    note(
      `lakehouse gold: ${orderLines.toLocaleString('en-US')} order lines (${changes.toLocaleString('en-US')} bronze changes, ${history.products} products), ${project.models.size} models, ${project.tests.length} tests`,
    );
    // Bronze's pages into the buffer pool before either build reads them.
    await lakehouse.all('SELECT count(*), sum(length(after)) FROM bronze.changes');
    const times = { ours: [] as number[], hand: [] as number[] };
    const order = ['hand', 'ours', 'ours', 'hand'] as const;
    const progress = startProgress('lakehouse: gold builds', order.length);
    for (const [index, side] of order.entries()) {
      times[side].push(
        await timeMs(() =>
          side === 'ours' ? buildWithRunner(lakehouse, project) : buildByHand(lakehouse, project),
        ),
      );
      progress.update(index + 1);
    }
    progress.stop();
    await checkSameGold(lakehouse, orderLines);
    const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    return figure({
      name: 'lakehouse.gold_build_1m',
      value: mean(times.ours),
      unit: `ms, ${orderLines.toLocaleString('en-US')} order lines`,
      baseline: mean(times.hand),
      baselineLabel: 'the compiled SQL by hand in DuckDB (CTAS per model + test counts)',
      target: { on: 'ratio', atMost: 1.5 },
    });
  } finally {
    await lakehouse.close();
  }
}
