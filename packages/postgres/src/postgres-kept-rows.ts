import type { KeptRows } from '@causeway/core';

/** A `count(*)::bigint AS count, <age of the oldest in ms>::bigint AS oldest_age_ms` row. */
export interface KeptRowsRow {
  count: number;
  oldest_age_ms: number | null;
}

/** The row as the port's KeptRows (an age is never negative, even across a clock step). */
export function keptRowsOf(row: KeptRowsRow | undefined): KeptRows {
  return { count: Number(row?.count ?? 0), oldestAgeMs: Math.max(0, Number(row?.oldest_age_ms ?? 0)) };
}
