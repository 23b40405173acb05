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
  /** The first missing position below a visible one, if the scan stopped there. */
  gapAt?: number;
  /** The cursor's hold, once proven final and stepped over. */
  holdResolved: boolean;
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
    if (scan.gapAt === undefined) {
      return { events: scan.events, cursor: { position: scan.position }, heldBackMs: 0 };
    }
    const hold =
      !scan.holdResolved && cursor.hold?.at === scan.gapAt ? cursor.hold : await newHold(scan.gapAt);
    return {
      events: scan.events,
      cursor: { position: scan.position, hold },
      heldBackMs: Date.now() - hold.since,
      heldBackReason: await describeHold(hold),
    };
  };

  /**
   * The horizon is an xid assigned AFTER the snapshot that showed the gap, so it is above the xid
   * of whoever holds the missing position (that xid was assigned before the higher, visible event
   * took its position, hence before that snapshot). The snapshot's own xmax is not enough: it is
   * "latest completed xid + 1", and a running transaction can have an xid at or above it when the
   * visible event came from a transaction with a lower xid. Costs one xid per new gap, none per read.
   */
  async function newHold(at: number): Promise<Hold> {
    const [row] = await database.query<{ horizon: string }>('SELECT pg_current_xact_id()::text AS horizon');
    return { at, horizon: row!.horizon, since: Date.now() };
  }

  async function describeHold(hold: Hold): Promise<string> {
    const [oldest] = await database.query<{ pid: number; xact_start: Date; backend_xid: string }>(
      `SELECT pid, xact_start, backend_xid::text AS backend_xid FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 1`,
    );
    const behind = oldest
      ? ` behind transaction ${oldest.backend_xid} (pid ${oldest.pid}, started ${oldest.xact_start.toISOString()})`
      : ' behind a transaction that had not finished';
    return `gap at ${hold.at}${behind}: waiting until every transaction older than xid ${hold.horizon} ends`;
  }
}

/**
 * Delivers the contiguous run after the cursor. At a gap it steps over only when the cursor's
 * hold is for that very gap and `xmin >= horizon`: every transaction that could fill it has ended,
 * and any that committed is visible in this same snapshot (it would have been a row).
 */
function scanContiguous(cursor: GlobalCursor, rows: SnapshotRow[], xmin: bigint): Scan {
  const events: StoredEvent[] = [];
  let position = cursor.position;
  let holdResolved = false;
  for (const row of rows) {
    if (row.global_position === undefined || row.global_position === null) break;
    if (row.global_position !== position + 1) {
      const gapAt = position + 1;
      const hold = cursor.hold;
      const isFinal = !holdResolved && hold?.at === gapAt && xmin >= BigInt(hold.horizon);
      if (!isFinal) return { events, position, gapAt, holdResolved };
      holdResolved = true;
    }
    events.push(toStoredEvent(row as EventRow));
    position = row.global_position;
  }
  return { events, position, holdResolved };
}
