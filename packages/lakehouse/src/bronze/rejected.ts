/**
 * Held-out changes: a silver model that meets a change it cannot read (a missing key, a value of
 * the wrong type) leaves it out and records why in `<schema>.rejected`, one row per (change, model).
 *
 * A model written in SQL does both in its own statements, in the model's transaction:
 *
 *   INSERT INTO bronze.rejected
 *     SELECT change_id, source, table_name, 'silver.orders', 'after.total is not a number', now()
 *     FROM bronze.changes WHERE table_name = 'orders' AND try_cast(after->>'total' AS DECIMAL) IS NULL
 *   ON CONFLICT DO NOTHING;
 *   ... FROM bronze.changes c
 *       WHERE NOT EXISTS (SELECT 1 FROM bronze.rejected r WHERE r.change_id = c.change_id AND r.model = 'silver.orders')
 *
 * `recordRejected` is the same insert for a model that finds the bad changes in TypeScript.
 */
import { InvalidArgumentError } from '@causeway/core';
import type { LakehouseSession } from '../lakehouse.ts';
import { bronzeTables } from './bronze-tables.ts';

export interface RejectedChange {
  readonly changeId: string;
  readonly source: string;
  /** The change's table in its source (bronze's `table_name`). */
  readonly table: string;
  /** The model that held the change out, e.g. `silver.orders`. */
  readonly model: string;
  /** Why, for a person: which field, what was expected. */
  readonly reason: string;
}

/** Rows per INSERT: five parameters a row stays well under DuckDB's limits. */
const rowsPerStatement = 200;

/**
 * Records rejections in the caller's transaction (so they commit with the model's output).
 * A (change, model) recorded before keeps its first reason and time. Returns how many were new.
 */
export async function recordRejected(
  session: LakehouseSession,
  rejection: { rows: readonly RejectedChange[]; schema?: string },
): Promise<number> {
  const { rejected } = bronzeTables(rejection.schema);
  rejection.rows.forEach(checkRejected);
  const rows = firstOfEach(rejection.rows);
  let recorded = 0;
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    const values = chunk.map((_, index) => {
      const first = index * 5;
      return `($${first + 1}, $${first + 2}, $${first + 3}, $${first + 4}, $${first + 5}, now())`;
    });
    const inserted = await session.all(
      `INSERT INTO ${rejected} (change_id, source, table_name, model, reason, detected_at)
       VALUES ${values.join(', ')} ON CONFLICT DO NOTHING RETURNING change_id`,
      chunk.flatMap((row) => [row.changeId, row.source, row.table, row.model, row.reason]),
    );
    recorded += inserted.length;
  }
  return recorded;
}

function checkRejected(row: RejectedChange, index: number): void {
  for (const field of ['changeId', 'source', 'table', 'model', 'reason'] as const) {
    if (typeof row[field] !== 'string' || row[field].length === 0) {
      throw new InvalidArgumentError(
        field,
        `Rejected row ${index} has no ${field}: a non-empty string is required`,
      );
    }
  }
}

/** One row per (change, model), the first: a statement that inserts a key twice fails in DuckDB. */
function firstOfEach(rows: readonly RejectedChange[]): RejectedChange[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = JSON.stringify([row.changeId, row.model]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
