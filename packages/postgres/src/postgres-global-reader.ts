import type { GlobalBatch, GlobalCursor, StoredEvent } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import { type EventRow, eventColumns, toStoredEvent } from './postgres-event-row.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

type Hold = NonNullable<GlobalCursor['hold']>;

interface SnapshotRow extends Partial<EventRow> {
  snapshot_xmin: string;
}

interface Scan {
  events: StoredEvent[];
  position: number;
  /** Where the scan stopped, if at a gap it could not step over. */
  gap?: {
    /** The first missing position below a visible one. */
    at: number;
    /** The highest position the scan saw, visible in its snapshot: what a new hold covers. */
    highestSeen: number;
    /** The cursor's hold, when it covers this gap and is not proven yet: the wait goes on, not anew. */
    stillHeldBy?: Hold;
  };
}

/** Whether `position` lies within the hold, from `at` up to `through`. */
function isCovered(hold: Hold | undefined, position: number): hold is Hold {
  return hold !== undefined && position >= hold.at && position <= (hold.through ?? hold.at);
}

/**
 * Reads the global log in position order without ever skipping an event whose transaction is
 * still running (docs/design/store.md, "Reading the global log without skipping"). A gap is
 * held until a later snapshot's xmin reaches the hold's horizon; no timeout ever skips it.
 */
export function createPostgresGlobalReader(database: PostgresConnection, schema: PostgresSchema) {
  // One statement: the rows and the xmin of the very snapshot that produced them.
  const readSql = prepared(`
    WITH snapshot AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS snapshot_xmin)
    SELECT snapshot.snapshot_xmin, page.*
      FROM snapshot
      LEFT JOIN LATERAL (
        SELECT ${eventColumns} FROM ${schema.sql}.events
         WHERE global_position > $1 ORDER BY global_position LIMIT $2
      ) AS page ON true`);

  return async function readAll(cursor: GlobalCursor, options: { limit: number }): Promise<GlobalBatch> {
    const rows = await database.query<SnapshotRow>(readSql, [cursor.position, options.limit]);
    const xmin = BigInt(rows[0]?.snapshot_xmin ?? '0');
    const scan = scanContiguous(cursor, rows, xmin);
    if (scan.gap === undefined) {
      return { events: scan.events, cursor: { position: scan.position }, heldBackMs: 0 };
    }
    const { at, highestSeen, stillHeldBy } = scan.gap;
    const hold = stillHeldBy ?? (await newHold(at, highestSeen));
    return {
      events: scan.events,
      cursor: { position: scan.position, hold },
      heldBackMs: Date.now() - hold.since,
      heldBackReason: await describeHold(at, hold),
    };
  };

  /**
   * The horizon is an xid assigned AFTER the snapshot that showed the gap, so it is above the xid
   * of whoever holds the missing position (that xid was assigned before the higher, visible event
   * took its position, hence before that snapshot). The same is true of every missing position
   * below the highest one that snapshot showed (`through`), so one proven hold covers them all:
   * under many writers with rollbacks, a run of gaps costs one wait, not one wait per gap.
   * The snapshot's own xmax is not enough: it is "latest completed xid + 1", and a running
   * transaction can have an xid at or above it when the visible event came from a transaction with
   * a lower xid. Costs one xid per new hold, none per read.
   */
  async function newHold(at: number, through: number): Promise<Hold> {
    const [row] = await database.query<{ horizon: string }>('SELECT pg_current_xact_id()::text AS horizon');
    return { at, horizon: row!.horizon, since: Date.now(), through };
  }

  async function describeHold(gapAt: number, hold: Hold): Promise<string> {
    const [oldest] = await database.query<{ pid: number; xact_start: Date; backend_xid: string }>(
      `SELECT pid, xact_start, backend_xid::text AS backend_xid FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 1`,
    );
    const behind = oldest
      ? ` behind transaction ${oldest.backend_xid} (pid ${oldest.pid}, started ${oldest.xact_start.toISOString()})`
      : ' behind a transaction that had not finished';
    return `gap at ${gapAt}${behind}: waiting until every transaction older than xid ${hold.horizon} ends`;
  }
}

/**
 * Delivers the contiguous run after the cursor. At a gap it steps over only when the cursor's
 * hold is proven (`xmin >= horizon`: every transaction that could fill a position it covers has
 * ended, and any that committed is visible in this same snapshot, so it would have been a row)
 * and the gap lies within the hold, from `at` to `through`.
 */
function scanContiguous(cursor: GlobalCursor, rows: SnapshotRow[], xmin: bigint): Scan {
  const events: StoredEvent[] = [];
  const hold = cursor.hold;
  const isProven = hold !== undefined && xmin >= BigInt(hold.horizon);
  let position = cursor.position;
  for (const row of rows) {
    if (row.global_position === undefined || row.global_position === null) break;
    if (row.global_position !== position + 1) {
      const at = position + 1;
      const isFinal = isProven && isCovered(hold, at) && isCovered(hold, row.global_position - 1);
      if (!isFinal) {
        // Rows come in position order, so the last one is the highest this snapshot showed.
        const highestSeen = rows.at(-1)!.global_position!;
        const stillHeldBy = !isProven && isCovered(hold, at) ? hold : undefined;
        return { events, position, gap: { at, highestSeen, ...(stillHeldBy ? { stillHeldBy } : {}) } };
      }
    }
    events.push(toStoredEvent(row as EventRow));
    position = row.global_position;
  }
  return { events, position };
}
