import { describe, expect, it } from 'vitest';
import type { Lakehouse } from '../lakehouse.ts';
import { execute, useTestLakehouse } from '../test-support/open-test-lakehouse.ts';
import type { ModelTest } from './data-tests.ts';
import { defineModel } from './model-definition.ts';
import { createModelRunner } from './model-runner.ts';
import { createProject } from './project.ts';
import type { RunProgress } from './run-execution.ts';

const open = useTestLakehouse();

/** Sources in `bronze`: three customers, orders whose amount is text (so a bad one breaks the cast). */
async function seededLakehouse(): Promise<Lakehouse> {
  const lakehouse = await open();
  await execute(
    lakehouse,
    'CREATE SCHEMA bronze',
    `CREATE TABLE bronze.customers AS SELECT * FROM (VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy')) AS c(id, name)`,
    `CREATE TABLE bronze.orders AS SELECT * FROM (VALUES (10, 1, 'placed', '500'), (11, 2, 'paid', '700')) AS o(id, customer_id, status, amount)`,
  );
  return lakehouse;
}

/** customers, orders (silver tables) -> order_totals (gold table); customer_names (gold view) beside. */
function shopProject(orderTests: ModelTest[] = []) {
  return createProject([
    defineModel({
      name: 'customers',
      layer: 'silver',
      materialized: 'table',
      sql: (ctx) => `SELECT id, name FROM ${ctx.source('bronze', 'customers')}`,
    }),
    defineModel({
      name: 'orders',
      layer: 'silver',
      materialized: 'table',
      tests: orderTests,
      sql: (ctx) =>
        `SELECT id, customer_id, status, CAST(amount AS INTEGER) AS amount FROM ${ctx.source('bronze', 'orders')}`,
    }),
    defineModel({
      name: 'order_totals',
      layer: 'gold',
      materialized: 'table',
      sql: (ctx) => `SELECT c.name, sum(o.amount) AS total FROM ${ctx.ref('orders')} o
        JOIN ${ctx.ref('customers')} c ON c.id = o.customer_id GROUP BY c.name`,
    }),
    defineModel({
      name: 'customer_names',
      layer: 'gold',
      materialized: 'view',
      sql: (ctx) => `SELECT name FROM ${ctx.ref('customers')}`,
    }),
  ]);
}

const statusTest = (severity: 'warn' | 'error'): ModelTest => ({
  type: 'accepted_values',
  column: 'status',
  values: ['placed', 'paid'],
  severity,
});

describe('createModelRunner', () => {
  it('builds every model in its layer schema and logs the run', async () => {
    const lakehouse = await seededLakehouse();
    const progress: RunProgress[] = [];
    const runner = createModelRunner({
      lakehouse,
      project: shopProject([{ type: 'unique', column: 'id' }]),
      onProgress: (p) => progress.push(p),
    });
    const run = await runner.run();
    expect(run.status).toBe('success');
    expect(run.models.map((m) => [m.model, m.status, m.rows])).toEqual([
      ['customers', 'success', 3],
      ['customer_names', 'success', null],
      ['orders', 'success', 2],
      ['order_totals', 'success', 2],
    ]);
    expect(progress.map((p) => `${p.done}/${p.total} ${p.model}`)).toEqual([
      '1/4 customers',
      '2/4 customer_names',
      '3/4 orders',
      '4/4 order_totals',
    ]);
    expect(await lakehouse.all('SELECT name, total FROM gold.order_totals ORDER BY name')).toEqual([
      { name: 'Ada', total: 500 },
      { name: 'Bo', total: 700 },
    ]);
    expect(await runner.getRun(run.runId)).toEqual(run);
    expect(await runner.getRun('no-such-run')).toBeNull();
  });

  it('reports a failing test with its failing rows, fails the run and skips what is downstream', async () => {
    const lakehouse = await seededLakehouse();
    await execute(
      lakehouse,
      `INSERT INTO bronze.orders VALUES (12, 3, 'lost', '100'), (13, 3, 'lost', '50')`,
    );
    const runner = createModelRunner({ lakehouse, project: shopProject([statusTest('error')]) });
    const run = await runner.run();
    expect(run.status).toBe('failed');
    expect(run.tests).toEqual([
      expect.objectContaining({
        test: 'accepted_values_orders_status__placed__paid',
        model: 'orders',
        status: 'fail',
        failures: 1,
        sample: [{ value_field: 'lost', n_records: 2 }],
      }),
    ]);
    const byModel = new Map(run.models.map((m) => [m.model, m]));
    // The model itself stays built (dbt build): only its descendants are skipped.
    expect(byModel.get('orders')?.status).toBe('success');
    expect(byModel.get('order_totals')).toMatchObject({
      status: 'skipped',
      error: 'test "accepted_values_orders_status__placed__paid" failed on "orders"',
    });
    expect(byModel.get('customer_names')?.status).toBe('success');
    const [logged] = await lakehouse.all('SELECT status, failures, sample FROM meta.test_results');
    expect(logged).toEqual({ status: 'fail', failures: 1, sample: '[{"value_field":"lost","n_records":2}]' });
  });

  it('reports a warn-severity test as warn without failing the run', async () => {
    const lakehouse = await seededLakehouse();
    await execute(lakehouse, `INSERT INTO bronze.orders VALUES (12, 3, 'lost', '100')`);
    const run = await createModelRunner({ lakehouse, project: shopProject([statusTest('warn')]) }).run();
    expect(run.status).toBe('success');
    expect(run.tests[0]).toMatchObject({ status: 'warn', failures: 1 });
    expect(run.models.every((m) => m.status === 'success')).toBe(true);
  });

  it('keeps the old table of a failing model, skips its descendants and still runs the others', async () => {
    const lakehouse = await seededLakehouse();
    const runner = createModelRunner({ lakehouse, project: shopProject() });
    await runner.run();
    await execute(
      lakehouse,
      `INSERT INTO bronze.orders VALUES (12, 3, 'paid', 'not a number')`,
      `INSERT INTO bronze.customers VALUES (4, 'Di')`,
    );
    const run = await runner.run();
    expect(run.status).toBe('failed');
    const byModel = new Map(run.models.map((m) => [m.model, m]));
    expect(byModel.get('orders')?.status).toBe('error');
    expect(byModel.get('orders')?.error).toMatch(/not a number/);
    expect(byModel.get('order_totals')).toMatchObject({
      status: 'skipped',
      error: 'upstream model "orders" failed',
    });
    expect(byModel.get('customers')).toMatchObject({ status: 'success', rows: 4 });
    expect(await lakehouse.all('SELECT count(*) AS n FROM silver.orders')).toEqual([{ n: 2 }]);
    expect(await lakehouse.all('SELECT count(*) AS n FROM gold.customer_names')).toEqual([{ n: 4 }]);
    const logged = await lakehouse.all(
      `SELECT model, status FROM meta.model_runs WHERE run_id = $1 ORDER BY model`,
      [run.runId],
    );
    expect(logged).toContainEqual({ model: 'order_totals', status: 'skipped' });
  });

  it('builds into the schemas a run maps layers to and leaves the default schemas untouched', async () => {
    const lakehouse = await seededLakehouse();
    const runner = createModelRunner({ lakehouse, project: shopProject() });
    await runner.run();
    await execute(lakehouse, `INSERT INTO bronze.orders VALUES (12, 3, 'paid', '300')`);
    const shadow = (name: string) => (name === 'bronze' ? 'bronze' : `g2_${name}`);
    const run = await runner.run({ schemaOf: shadow });
    expect(run.status).toBe('success');
    expect(run.models.find((m) => m.model === 'orders')?.relation).toBe('"g2_silver"."orders"');
    expect(await lakehouse.all('SELECT count(*) AS n FROM g2_silver.orders')).toEqual([{ n: 3 }]);
    expect(await lakehouse.all('SELECT count(*) AS n FROM g2_gold.order_totals')).toEqual([{ n: 3 }]);
    expect(await lakehouse.all('SELECT count(*) AS n FROM silver.orders')).toEqual([{ n: 2 }]);
    expect(await lakehouse.all('SELECT count(*) AS n FROM gold.order_totals')).toEqual([{ n: 2 }]);
  });

  it('runs only the selection, and refuses an unknown selector before anything runs', async () => {
    const lakehouse = await seededLakehouse();
    const runner = createModelRunner({ lakehouse, project: shopProject() });
    const run = await runner.run({ select: ['+order_totals'] });
    expect(run.models.map((m) => m.model)).toEqual(['customers', 'orders', 'order_totals']);
    await expect(runner.run({ select: ['order_total'] })).rejects.toThrow(
      /"order_total", which is not in the project/,
    );
    expect(await lakehouse.all('SELECT count(*) AS n FROM meta.runs')).toEqual([{ n: 1 }]);
  });

  it('serializes runs: a second run starts after the first has ended', async () => {
    const lakehouse = await seededLakehouse();
    const runner = createModelRunner({ lakehouse, project: shopProject() });
    const [first, second] = await Promise.all([runner.run(), runner.run()]);
    expect(Date.parse(second.startedAt)).toBeGreaterThanOrEqual(Date.parse(first.endedAt!));
    expect(first.status).toBe('success');
    expect(second.status).toBe('success');
  });

  it('describes each model with its dependencies, latest run and test statuses', async () => {
    const lakehouse = await seededLakehouse();
    const runner = createModelRunner({
      lakehouse,
      project: shopProject([{ type: 'not_null', column: 'id' }]),
    });
    expect((await runner.describe()).every((model) => model.lastRun === null)).toBe(true);
    await runner.run();
    const described = await runner.describe();
    expect(described.find((model) => model.name === 'orders')).toMatchObject({
      layer: 'silver',
      materialized: 'table',
      dependsOn: [],
      lastRun: { status: 'success', rows: 2 },
      tests: [{ name: 'not_null_orders_id', status: 'pass' }],
    });
    expect(described.find((model) => model.name === 'order_totals')?.dependsOn).toEqual([
      'customers',
      'orders',
    ]);
  });

  it("keeps the newest keepRuns runs in full, and each model's and test's latest result beyond them", async () => {
    const lakehouse = await seededLakehouse();
    const runner = createModelRunner({
      lakehouse,
      project: shopProject([{ type: 'not_null', column: 'id' }]),
      keepRuns: 2,
    });
    const everything = await runner.run();
    const onlyCustomers: string[] = [];
    for (let run = 0; run < 4; run++) onlyCustomers.push((await runner.run({ select: ['customers'] })).runId);

    const logged = await lakehouse.all('SELECT run_id FROM meta.runs ORDER BY started_at');
    expect(logged.map((row) => row.run_id)).toEqual([everything.runId, ...onlyCustomers.slice(-2)]);
    expect(await runner.getRun(onlyCustomers[0]!)).toBeNull();
    // The first run holds the latest result of every model but customers, and of the orders test.
    const kept = await runner.getRun(everything.runId);
    expect(kept?.models.map((model) => model.model)).toEqual(
      everything.models.map((model) => model.model).filter((model) => model !== 'customers'),
    );
    expect(kept?.tests.map((test) => test.test)).toEqual(['not_null_orders_id']);
    const described = await runner.describe();
    expect(described.every((model) => model.lastRun?.status === 'success')).toBe(true);
    expect(described.find((model) => model.name === 'orders')?.tests).toEqual([
      { name: 'not_null_orders_id', status: 'pass' },
    ]);
    expect(() => createModelRunner({ lakehouse, project: shopProject(), keepRuns: 0 })).toThrow(/keepRuns/);
  });
});
