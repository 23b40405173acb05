import { InvalidArgumentError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { useTestLakehouse } from '../test-support/open-test-lakehouse.ts';
import { createBronze } from './bronze.ts';
import { recordRejected } from './rejected.ts';
import { changeAt } from './test-support/changes.ts';

describe('rejected changes', () => {
  const openLakehouseForTest = useTestLakehouse();
  async function open() {
    const lakehouse = await openLakehouseForTest();
    const bronze = createBronze({ lakehouse });
    await bronze.ingest({
      source: 'orders',
      changes: [
        changeAt(1n, { after: { id: '1', total: '12.50' } }),
        changeAt(2n, { after: { id: '2', total: 'n/a' } }),
      ],
      position: 2n,
    });
    return lakehouse;
  }
  const held = {
    changeId: 'orders:2',
    source: 'orders',
    table: 'events',
    model: 'silver.orders',
    reason: 'bad total',
  };

  it('records a rejection once per change and model, keeping the first reason', async () => {
    const lakehouse = await open();
    const first = await lakehouse.transaction((session) => recordRejected(session, { rows: [held, held] }));
    const again = await lakehouse.transaction((session) =>
      recordRejected(session, {
        rows: [
          { ...held, reason: 'other reason' },
          { ...held, model: 'gold.revenue' },
        ],
      }),
    );
    expect([first, again]).toEqual([1, 1]);
    expect(
      await lakehouse.all('SELECT change_id, model, reason FROM bronze.rejected ORDER BY model'),
    ).toEqual([
      { change_id: 'orders:2', model: 'gold.revenue', reason: 'bad total' },
      { change_id: 'orders:2', model: 'silver.orders', reason: 'bad total' },
    ]);
  });

  it('commits with the model: a model run that fails records nothing', async () => {
    const lakehouse = await open();
    await expect(
      lakehouse.transaction(async (session) => {
        await recordRejected(session, { rows: [held] });
        throw new Error('model failed');
      }),
    ).rejects.toThrow('model failed');
    expect(await lakehouse.all('SELECT count(*) AS n FROM bronze.rejected')).toEqual([{ n: 0 }]);
  });

  it('serves a SQL model: hold out and record in SQL, then select around the held-out rows', async () => {
    const lakehouse = await open();
    const model = async () =>
      lakehouse.transaction(async (session) => {
        await session.run(`INSERT INTO bronze.rejected
          SELECT change_id, source, table_name, 'silver.orders', 'after.total is not a number', now()
          FROM bronze.changes WHERE try_cast(after->>'total' AS DECIMAL(18, 2)) IS NULL
          ON CONFLICT DO NOTHING`);
        return session.all(`SELECT after->>'id' AS id FROM bronze.changes c WHERE NOT EXISTS
          (SELECT 1 FROM bronze.rejected r WHERE r.change_id = c.change_id AND r.model = 'silver.orders')`);
      });
    expect(await model()).toEqual([{ id: '1' }]);
    expect(await model()).toEqual([{ id: '1' }]);
    expect(await lakehouse.all('SELECT change_id, reason FROM bronze.rejected')).toEqual([
      { change_id: 'orders:2', reason: 'after.total is not a number' },
    ]);
  });

  it('refuses a rejection without a reason and writes none of its batch', async () => {
    const lakehouse = await open();
    const rows = [held, { ...held, changeId: 'orders:1', reason: '' }];
    await expect(
      lakehouse.transaction((session) => recordRejected(session, { rows })),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await lakehouse.all('SELECT count(*) AS n FROM bronze.rejected')).toEqual([{ n: 0 }]);
  });
});
