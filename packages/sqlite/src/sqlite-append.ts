import {
  type AppendRequest,
  type AppendResult,
  appendedEventsOutbox,
  ConcurrencyError,
  type ExpectedVersion,
  eventColumnValues,
  IdempotencyConflictError,
  toLoneEventAppend,
} from '@causeway/core';
import { insertOutboxMessages } from './sqlite-outbox-store.ts';
import { memoizeByRowCount, valuesPlaceholders } from './sqlite-row-batches.ts';
import type { SqliteTables } from './sqlite-schema.ts';
import type { SqliteSession } from './sqlite-session.ts';
import type { SqliteTransaction } from './sqlite-transaction.ts';

interface ExistingEventRow {
  event_id: string;
  stream_id: string;
  stream_position: number;
  global_position: number;
}

type EventPositions = Array<{ streamPosition: number; globalPosition: number }>;

/** Appends one request in the caller's transaction; a failing request writes nothing. */
export type SqliteAppender = (tx: SqliteTransaction, request: AppendRequest) => AppendResult;

/** What an append writes per event: id, stream, position, then `eventColumnValues` (global_position is the rowid). */
const eventColumns = `(event_id, stream_id, stream_position, type, schema_version, correlation_id, causation_id,
  occurred_at, metadata, data)`;

/**
 * Up to this many events go in one INSERT (10 parameters a row), with one prepared statement per
 * row count; a bigger append is split into statements of this size inside a savepoint.
 */
const eventsPerStatement = 128;

/**
 * The common append is one indexed read and one multi-row INSERT. SQLite has a single writer and
 * every write transaction holds the file's write lock from BEGIN IMMEDIATE, so the stream's
 * version read from the (stream_id, stream_position) index cannot change before the insert: no
 * `streams` row to write (it cost a fourth B-tree page per commit). A failing statement is undone
 * by SQLite on its own (ABORT) and leaves the transaction open. Duplicate event ids surface as the
 * UNIQUE (event_id) violation, and only then are the ids looked up.
 */
export function createSqliteAppender(tables: SqliteTables): SqliteAppender {
  const sql = appendStatements(tables);
  return function appendToStream(tx, request) {
    const session = tx.session;
    if (request.events.length === 0) return appendNothing(session, sql, request);
    const written = writeAppend(tx, tables, sql, request);
    return written ?? resolveConflict(session, sql, request);
  };
}

/** The writes of one append, or null (nothing written) when the expected version does not hold. */
function writeAppend(
  tx: SqliteTransaction,
  tables: SqliteTables,
  sql: AppendStatements,
  request: AppendRequest,
): AppendResult | null {
  const session = tx.session;
  const hasOutbox = (request.outbox !== undefined && request.outbox.length > 0) || !!request.publishTo;
  const isOneStatement = request.events.length <= eventsPerStatement && !hasOutbox;
  if (!isOneStatement) session.run('SAVEPOINT causeway_append');
  let current: number | null = null;
  let positions: EventPositions = [];
  try {
    current = reserveVersions(session, sql, request);
    if (current !== null) {
      positions = insertEvents(session, sql, request, current);
      if (request.outbox?.length) insertOutboxMessages(tx, tables, request.outbox);
      if (request.publishTo) {
        const written = {
          streamId: request.streamId,
          nextExpectedVersion: 0,
          positions,
          deduplicated: false,
        };
        insertOutboxMessages(tx, tables, appendedEventsOutbox(request, written));
      }
    }
  } catch (error) {
    // SQLite may have rolled back the whole transaction (e.g. disk full): nothing to undo then,
    // and any further statement would run outside it.
    if (!session.inTransaction) throw error;
    if (!isOneStatement) {
      session.run('ROLLBACK TO causeway_append');
      session.run('RELEASE causeway_append');
    }
    // Usually a UNIQUE (event_id) violation: a retried append, or ids used elsewhere.
    const retry = findRetry(session, sql, request);
    if (retry !== null) return retry;
    throw error;
  }
  if (!isOneStatement) session.run('RELEASE causeway_append');
  if (current === null) return null;
  tx.markChanged();
  return {
    streamId: request.streamId,
    nextExpectedVersion: current + request.events.length,
    positions,
    deduplicated: false,
  };
}

function appendStatements(t: SqliteTables) {
  return {
    version: streamVersionSql(t),
    insertEvents: memoizeByRowCount(
      (rows) => `INSERT INTO ${t.events} ${eventColumns} VALUES ${valuesPlaceholders(rows, 10)}`,
    ),
    findEvents: `SELECT event_id, stream_id, stream_position, global_position FROM ${t.events}
      WHERE event_id IN (SELECT value FROM json_each(?))`,
  };
}

type AppendStatements = ReturnType<typeof appendStatements>;

/** The version before the append, or null when the expectation does not hold. */
function reserveVersions(
  session: SqliteSession,
  sql: AppendStatements,
  request: AppendRequest,
): number | null {
  const current = readVersion(session, sql, request.streamId);
  return matchesExpectedVersion(request.expectedVersion, current) ? current : null;
}

/** Global positions are rowids: one statement's rows get consecutive ones, the last reported. */
function insertEvents(
  session: SqliteSession,
  sql: AppendStatements,
  request: AppendRequest,
  current: number,
): EventPositions {
  const positions: EventPositions = [];
  const events = request.events;
  for (let start = 0; start < events.length; start += eventsPerStatement) {
    const rows = Math.min(eventsPerStatement, events.length - start);
    const params: unknown[] = [];
    for (let index = start; index < start + rows; index++) {
      const event = events[index]!;
      params.push(event.id, request.streamId, current + index + 1, ...eventColumnValues(event));
    }
    const { lastInsertRowid } = session.run(sql.insertEvents(rows), params);
    for (let index = 0; index < rows; index++) {
      positions.push({
        streamPosition: current + start + index + 1,
        globalPosition: lastInsertRowid - rows + 1 + index,
      });
    }
  }
  return positions;
}

/** An empty append writes nothing; it only checks the expected version. */
function appendNothing(session: SqliteSession, sql: AppendStatements, request: AppendRequest): AppendResult {
  const current = readVersion(session, sql, request.streamId);
  if (!matchesExpectedVersion(request.expectedVersion, current)) {
    throw new ConcurrencyError(request.streamId, request.expectedVersion, current);
  }
  return { streamId: request.streamId, nextExpectedVersion: current, positions: [], deduplicated: false };
}

/**
 * The expected version did not hold. A retry of an append that already succeeded has a stale
 * expected version too, so the ids decide first: a retry returns its original positions.
 */
function resolveConflict(
  session: SqliteSession,
  sql: AppendStatements,
  request: AppendRequest,
): AppendResult {
  const retry = findRetry(session, sql, request);
  if (retry !== null) return retry;
  throw new ConcurrencyError(
    request.streamId,
    request.expectedVersion,
    readVersion(session, sql, request.streamId),
  );
}

/** The last stream position, from the unique (stream_id, stream_position) index. */
export function streamVersionSql(t: SqliteTables): string {
  return `SELECT stream_position AS version FROM ${t.events} WHERE stream_id = ? ORDER BY stream_position DESC LIMIT 1`;
}

function readVersion(session: SqliteSession, sql: AppendStatements, streamId: string): number {
  return session.get<{ version: number }>(sql.version, [streamId])?.version ?? 0;
}

function matchesExpectedVersion(expected: ExpectedVersion, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'noStream') return current === 0;
  if (expected === 'streamExists') return current > 0;
  return current === expected;
}

/**
 * A retried append (every event id already in this stream) gets the original positions and
 * writes nothing; ids stored elsewhere (another stream, or only some of them) are a conflict.
 * Null when none of the ids is stored.
 */
function findRetry(
  session: SqliteSession,
  sql: AppendStatements,
  request: AppendRequest,
): AppendResult | null {
  const ids = request.events.map((event) => event.id);
  const rows = session.all<ExistingEventRow>(sql.findEvents, [JSON.stringify(ids)]);
  if (rows.length === 0) return null;
  const byId = new Map(rows.map((row) => [row.event_id, row]));
  const isRetry = ids.every((id) => byId.get(id)?.stream_id === request.streamId);
  if (!isRetry) {
    throw new IdempotencyConflictError(
      `Event id(s) ${rows.map((row) => row.event_id).join(', ')} already stored ${describeWhere(rows, request)}: give new events new ids, and retry an append only with all of its original events`,
      { streamId: request.streamId, eventIds: rows.map((row) => row.event_id) },
    );
  }
  const positions = ids.map((id) => {
    const row = byId.get(id)!;
    return { streamPosition: row.stream_position, globalPosition: row.global_position };
  });
  const last = Math.max(...positions.map((position) => position.streamPosition));
  return { streamId: request.streamId, nextExpectedVersion: last, positions, deduplicated: true };
}

function describeWhere(rows: readonly ExistingEventRow[], request: AppendRequest): string {
  const others = [...new Set(rows.map((row) => row.stream_id))].filter((id) => id !== request.streamId);
  return others.length > 0
    ? `in stream(s) ${others.join(', ')}, not ${request.streamId}`
    : `in stream ${request.streamId}, but only ${rows.length} of the ${request.events.length} ids`;
}

/**
 * The common append (one event, no outbox, nothing else in the batch) as ONE autocommit
 * statement: the version check is its WHERE clause, so it writes the event or nothing. SQLite
 * takes the write lock when a write statement starts, so no other writer runs between its read
 * and its insert. Returns null when it wrote nothing: the caller takes the full path, which tells
 * a conflict from a retried append. An append to a new stream (`noStream`) skips the version
 * read: it inserts at position 1, and the UNIQUE (stream_id, stream_position) index refuses it
 * when the stream exists.
 */
export function createSingleEventAppender(tables: SqliteTables) {
  const newStreamSql = `INSERT INTO ${tables.events} ${eventColumns}
    VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
    RETURNING global_position, stream_position`;
  const sql = `INSERT INTO ${tables.events} ${eventColumns}
    SELECT ?, ?, current.version + 1, ?, ?, ?, ?, ?, ?, ?
    FROM (SELECT COALESCE((${streamVersionSql(tables)}), 0) AS version) AS current
    WHERE CASE ? WHEN -1 THEN 1 WHEN -2 THEN current.version > 0 ELSE current.version = ? END
    RETURNING global_position, stream_position`;
  return function appendSingleEvent(session: SqliteSession, request: AppendRequest): AppendResult | null {
    const lone = toLoneEventAppend(request);
    if (!lone) return null;
    let row: { global_position: number; stream_position: number } | undefined;
    try {
      row =
        request.expectedVersion === 'noStream'
          ? session.get(newStreamSql, lone.eventParams)
          : session.get(sql, [...lone.eventParams, request.streamId, lone.versionCheck, lone.versionCheck]);
    } catch (error) {
      // A duplicate id or, for a new stream, an existing one: the statement wrote nothing; the
      // full path sorts out retry vs conflict.
      if (error instanceof Error && /UNIQUE constraint failed/.test(error.message)) return null;
      throw error;
    }
    if (!row) return null;
    return {
      streamId: request.streamId,
      nextExpectedVersion: row.stream_position,
      positions: [{ streamPosition: row.stream_position, globalPosition: row.global_position }],
      deduplicated: false,
    };
  };
}
