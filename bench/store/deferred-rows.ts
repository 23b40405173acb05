import type { Store, Transaction } from '@causeway/core';

interface PendingTable {
  readonly columns: readonly string[];
  readonly rows: unknown[][];
}

const pending = new WeakMap<Transaction, Map<string, PendingTable>>();
const rowsPerStatement = 500;

/**
 * Queues one row for `table` in `tx`; `withDeferredRows` writes the queue with multi-row INSERTs
 * just before the transaction commits. A bench-side stand-in for a batch hook that core's
 * projection API does not have yet (handlers see one event at a time).
 */
export function deferRow(
  tx: Transaction,
  table: string,
  columns: readonly string[],
  values: unknown[],
): void {
  let tables = pending.get(tx);
  if (!tables) {
    tables = new Map();
    pending.set(tx, tables);
  }
  let queue = tables.get(table);
  if (!queue) {
    queue = { columns, rows: [] };
    tables.set(table, queue);
  }
  queue.rows.push(values);
}

async function flushDeferredRows(tx: Transaction): Promise<void> {
  const tables = pending.get(tx);
  if (!tables) return;
  pending.delete(tx);
  for (const [table, { columns, rows }] of tables) {
    for (let start = 0; start < rows.length; start += rowsPerStatement) {
      const chunk = rows.slice(start, start + rowsPerStatement);
      const tuples = chunk.map(
        (_, row) => `(${columns.map((__, column) => `$${row * columns.length + column + 1}`).join(', ')})`,
      );
      await tx.execute(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`,
        chunk.flat(),
      );
    }
  }
}

/** The same store, whose transactions write the rows queued with `deferRow` before committing. */
export function withDeferredRows(store: Store): Store {
  return {
    ...store,
    transaction: (work) =>
      store.transaction(async (tx) => {
        const result = await work(tx);
        await flushDeferredRows(tx);
        return result;
      }),
  };
}
