import { describe, expect, it } from 'vitest';
import type { Lakehouse } from '../lakehouse.ts';
import { execute, useTestLakehouse } from '../test-support/open-test-lakehouse.ts';
import { defineModel, type SnapshotStrategy } from './model-definition.ts';
import { createModelRunner } from './model-runner.ts';
import { createProject } from './project.ts';

const open = useTestLakehouse();

function productsSnapshot(snapshot: SnapshotStrategy) {
  return createProject([
    defineModel({
      name: 'product_history',
      layer: 'silver',
      materialized: 'snapshot',
      uniqueKey: 'id',
      snapshot,
      sql: (ctx) => `SELECT * FROM ${ctx.source('bronze', 'products')}`,
    }),
  ]);
}

async function seeded(snapshot: SnapshotStrategy) {
  const lakehouse = await open();
  await execute(
    lakehouse,
    'CREATE SCHEMA bronze',
    `CREATE TABLE bronze.products AS SELECT * FROM (VALUES
       (1, 'mug', 500, TIMESTAMP '2024-01-01 00:00:00'),
       (2, 'cap', 900, TIMESTAMP '2024-01-01 00:00:00')) AS p(id, name, price, updated_at)`,
  );
  return { lakehouse, runner: createModelRunner({ lakehouse, project: productsSnapshot(snapshot) }) };
}

const history = (lakehouse: Lakehouse) =>
  lakehouse.all('SELECT * FROM silver.product_history ORDER BY id, valid_from');

describe('snapshots', () => {
  it('changes nothing when re-run over an unchanged source (timestamp strategy)', async () => {
    const { lakehouse, runner } = await seeded({ strategy: 'timestamp', updatedAt: 'updated_at' });
    await runner.run();
    const first = await history(lakehouse);
    expect(first).toHaveLength(2);
    expect(first[0]).toMatchObject({
      id: 1,
      valid_from: new Date('2024-01-01T00:00:00Z'),
      valid_to: null,
      is_current: true,
    });
    await runner.run();
    await runner.run({ fullRefresh: true });
    expect(await history(lakehouse)).toEqual(first);
  });

  it('closes the current version and opens a new one when updated_at moves on', async () => {
    const { lakehouse, runner } = await seeded({ strategy: 'timestamp', updatedAt: 'updated_at' });
    await runner.run();
    await execute(
      lakehouse,
      `UPDATE bronze.products SET price = 550, updated_at = TIMESTAMP '2024-02-01 00:00:00' WHERE id = 1`,
    );
    const run = await runner.run();
    expect(run.models[0]).toMatchObject({ status: 'success', rows: 3 });
    const versions = await lakehouse.all(
      'SELECT price, valid_from, valid_to, is_current, scd_id FROM silver.product_history WHERE id = 1 ORDER BY valid_from',
    );
    expect(versions).toMatchObject([
      { price: 500, valid_to: new Date('2024-02-01T00:00:00Z'), is_current: false },
      { price: 550, valid_from: new Date('2024-02-01T00:00:00Z'), valid_to: null, is_current: true },
    ]);
    expect(versions[0]?.scd_id).not.toEqual(versions[1]?.scd_id);
  });

  it('keeps the current version of a row that disappeared from the source', async () => {
    const { lakehouse, runner } = await seeded({ strategy: 'timestamp', updatedAt: 'updated_at' });
    await runner.run();
    await execute(lakehouse, 'DELETE FROM bronze.products WHERE id = 2');
    await runner.run();
    expect(
      await lakehouse.all('SELECT id, is_current, valid_to FROM silver.product_history ORDER BY id'),
    ).toEqual([
      { id: 1, is_current: true, valid_to: null },
      { id: 2, is_current: true, valid_to: null },
    ]);
  });

  it('opens a version only when a check column changes (check strategy)', async () => {
    const { lakehouse, runner } = await seeded({ strategy: 'check', checkCols: ['price'] });
    await runner.run();
    await execute(lakehouse, `UPDATE bronze.products SET name = 'big mug' WHERE id = 1`);
    await runner.run();
    expect(await lakehouse.all('SELECT count(*) AS n FROM silver.product_history')).toEqual([{ n: 2 }]);
    await execute(lakehouse, `UPDATE bronze.products SET price = 600 WHERE id = 1`);
    const run = await runner.run();
    const versions = await lakehouse.all(
      'SELECT price, valid_from, valid_to, is_current FROM silver.product_history WHERE id = 1 ORDER BY valid_from',
    );
    expect(versions).toHaveLength(2);
    expect(versions[0]).toMatchObject({ price: 500, is_current: false, valid_to: versions[1]?.valid_from });
    expect(versions[1]).toMatchObject({ price: 600, is_current: true, valid_to: null });
    expect((versions[1]!.valid_from as Date).toISOString()).toBe(run.startedAt);
  });
});
