import { describe, expect, it } from 'vitest';
import { execute, useTestLakehouse } from '../test-support/open-test-lakehouse.ts';
import { defineModel } from './model-definition.ts';
import { createModelRunner } from './model-runner.ts';
import { createProject } from './project.ts';

const open = useTestLakehouse();

/** `latest`: the source's rows by id; later runs read only rows newer than the target's newest. */
const project = createProject([
  defineModel({
    name: 'latest',
    layer: 'silver',
    materialized: 'incremental',
    uniqueKey: 'id',
    sql: (ctx) => `SELECT id, value, version FROM ${ctx.source('bronze', 'items')}
      ${ctx.isIncremental ? `WHERE version > (SELECT max(version) FROM ${ctx.this})` : ''}`,
  }),
]);

async function seeded() {
  const lakehouse = await open();
  await execute(
    lakehouse,
    'CREATE SCHEMA bronze',
    `CREATE TABLE bronze.items AS SELECT * FROM (VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 1)) AS i(id, value, version)`,
  );
  return { lakehouse, runner: createModelRunner({ lakehouse, project }) };
}

describe('incremental models', () => {
  it('merges only new and changed keys: a column only the target has survives on every row', async () => {
    const { lakehouse, runner } = await seeded();
    await runner.run();
    await execute(
      lakehouse,
      'ALTER TABLE silver.latest ADD COLUMN note VARCHAR',
      `UPDATE silver.latest SET note = 'set by hand'`,
      `UPDATE bronze.items SET value = 'b2', version = 2 WHERE id = 2`,
      `INSERT INTO bronze.items VALUES (4, 'd', 2)`,
    );
    const run = await runner.run();
    expect(run.models[0]).toMatchObject({ status: 'success', rows: 4 });
    expect(await lakehouse.all('SELECT id, value, version, note FROM silver.latest ORDER BY id')).toEqual([
      { id: 1, value: 'a', version: 1, note: 'set by hand' },
      { id: 2, value: 'b2', version: 2, note: 'set by hand' },
      { id: 3, value: 'c', version: 1, note: 'set by hand' },
      { id: 4, value: 'd', version: 2, note: null },
    ]);
  });

  it('rebuilds from scratch on a full refresh', async () => {
    const { lakehouse, runner } = await seeded();
    await runner.run();
    await execute(
      lakehouse,
      'ALTER TABLE silver.latest ADD COLUMN note VARCHAR',
      `DELETE FROM bronze.items WHERE id = 3`,
    );
    await runner.run({ fullRefresh: true });
    expect(await lakehouse.all('SELECT * FROM silver.latest ORDER BY id')).toEqual([
      { id: 1, value: 'a', version: 1 },
      { id: 2, value: 'b', version: 1 },
    ]);
  });

  it('refuses a key returned twice and leaves the table as it was', async () => {
    const { lakehouse, runner } = await seeded();
    await runner.run();
    await execute(lakehouse, `INSERT INTO bronze.items VALUES (5, 'e', 3), (5, 'e again', 3)`);
    const run = await runner.run();
    expect(run.models[0]?.status).toBe('error');
    expect(run.models[0]?.error).toMatch(/returns its uniqueKey \(id\) more than once/);
    expect(await lakehouse.all('SELECT count(*) AS n FROM silver.latest')).toEqual([{ n: 3 }]);
  });

  it('matches on a composite key', async () => {
    const lakehouse = await open();
    await execute(
      lakehouse,
      'CREATE SCHEMA bronze',
      `CREATE TABLE bronze.lines AS SELECT * FROM (VALUES ('o1', 1, 5), ('o1', 2, 7)) AS l(order_id, line_no, qty)`,
    );
    const lines = createProject([
      defineModel({
        name: 'lines',
        layer: 'silver',
        materialized: 'incremental',
        uniqueKey: ['order_id', 'line_no'],
        sql: (ctx) => `SELECT * FROM ${ctx.source('bronze', 'lines')}`,
      }),
    ]);
    const runner = createModelRunner({ lakehouse, project: lines });
    await runner.run();
    await execute(
      lakehouse,
      `UPDATE bronze.lines SET qty = 9 WHERE line_no = 2`,
      `INSERT INTO bronze.lines VALUES ('o2', 1, 1)`,
    );
    await runner.run();
    expect(await lakehouse.all('SELECT * FROM silver.lines ORDER BY order_id, line_no')).toEqual([
      { order_id: 'o1', line_no: 1, qty: 5 },
      { order_id: 'o1', line_no: 2, qty: 9 },
      { order_id: 'o2', line_no: 1, qty: 1 },
    ]);
  });
});
