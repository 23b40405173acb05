import type { KeptRows } from '@causeway/core';

/** A `count(*) AS count, min(<epoch ms column>) AS oldest` row. */
export interface KeptRowsRow {
  count: number;
  oldest: number | null;
}

/** The row as the port's KeptRows: the oldest's age from now (0 when the table keeps none). */
export function keptRowsOf(row: KeptRowsRow | undefined): KeptRows {
  const oldest = row?.oldest ?? null;
  return { count: row?.count ?? 0, oldestAgeMs: oldest === null ? 0 : Math.max(0, Date.now() - oldest) };
}
