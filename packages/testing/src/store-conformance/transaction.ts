import type { Store } from '@causeway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GetStore, rejectionOf, rollBack, uniqueName } from './fixtures.ts';

/** The service's own SQL in the shared transaction, commit hooks and rollback on throw. */
export function describeTransactionConformance(getStore: GetStore): void {
  describe('Store.transaction', () => {
    const table = uniqueName('service_table');
    beforeAll(async () => {
      await getStore().transaction((tx) =>
        tx.execute(`CREATE TABLE ${table} (id TEXT PRIMARY KEY, amount INTEGER NOT NULL, label TEXT)`),
      );
    });
    afterAll(async () => {
      await getStore().transaction((tx) => tx.execute(`DROP TABLE ${table}`));
    });

    const rows = (store: Store, id: string) =>
      store.transaction((tx) =>
        tx.query<{ id: string; amount: number }>(`SELECT id, amount FROM ${table} WHERE id = $1`, [id]),
      );

    it('runs the service’s SQL with $n placeholders, reporting affected rows', async () => {
      const store = getStore();
      const [first, second] = [uniqueName('row'), uniqueName('row')];
      await store.transaction(async (tx) => {
        const inserted = await tx.execute(
          `INSERT INTO ${table} (id, amount, label) VALUES ($1, $2, $3), ($4, $2, $3)`,
          [first, 10, "it's $1", second],
        );
        expect(inserted.rowCount).toBe(2);
        const updated = await tx.execute(
          `UPDATE ${table} SET amount = amount + $1 WHERE id = $2 OR id = $3`,
          [5, first, second],
        );
        expect(updated.rowCount).toBe(2);
        expect(await tx.execute(`DELETE FROM ${table} WHERE id = $1`, [uniqueName('missing')])).toEqual({
          rowCount: 0,
        });
      });
      expect(await rows(store, first)).toEqual([{ id: first, amount: 15 }]);
      const labels = await store.transaction((tx) =>
        tx.query<{ label: string; literal: string }>(
          `SELECT label, '$2' AS literal FROM ${table} WHERE id = $1`,
          [first],
        ),
      );
      expect(labels).toEqual([{ label: "it's $1", literal: '$2' }]);
    });

    it('rolls back the service’s SQL with the rest of the transaction', async () => {
      const store = getStore();
      const id = uniqueName('row');
      await rollBack(store, (tx) => tx.execute(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [id, 1]));
      expect(await rows(store, id)).toEqual([]);
    });

    it('rethrows the very error thrown inside, after rolling back', async () => {
      const store = getStore();
      const id = uniqueName('row');
      const thrown = new Error('business rule broken');
      const error = await rejectionOf(
        store.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [id, 1]);
          throw thrown;
        }),
      );
      expect(error).toBe(thrown);
      expect(await rows(store, id)).toEqual([]);
    });

    it('runs onCommit callbacks after the commit, never after a rollback', async () => {
      const store = getStore();
      const id = uniqueName('row');
      const calls: string[] = [];
      let seenByCallback: Promise<unknown> | undefined;
      const result = await store.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${table} (id, amount) VALUES ($1, $2)`, [id, 7]);
        tx.onCommit(() => {
          calls.push('committed');
          // Data must already be visible to others when the callback runs.
          seenByCallback = rows(store, id);
        });
        expect(calls).toEqual([]);
        return 'result';
      });
      expect(result).toBe('result');
      expect(calls).toEqual(['committed']);
      expect(await seenByCallback).toEqual([{ id, amount: 7 }]);

      await rollBack(store, async (tx) => {
        tx.onCommit(() => calls.push('rolled back'));
      });
      expect(calls).toEqual(['committed']);
    });
  });
}
