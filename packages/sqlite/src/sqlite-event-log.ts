import type { EventLog, GlobalBatch, GlobalCursor, ReadStreamOptions, StoredEvent } from '@causeway/core';
import { createSingleEventAppender, createSqliteAppender, streamVersionSql } from './sqlite-append.ts';
import { createSqliteAppendMany } from './sqlite-append-many.ts';
import type { SqliteStoreContext } from './sqlite-connection.ts';
import type { SqliteTables } from './sqlite-schema.ts';

interface EventRow {
  event_id: string;
  type: string;
  schema_version: number;
  stream_id: string;
  stream_position: number;
  global_position: number;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_at: string;
  metadata: string;
  data: string;
}

const eventColumns = `event_id, type, schema_version, stream_id, stream_position, global_position,
  correlation_id, causation_id, occurred_at, metadata, data`;

/**
 * The event log on SQLite. One writer at a time means global positions are taken in commit
 * order, so `readAll` can read "everything after p" and never needs to hold back.
 */
export function createSqliteEventLog({ connection, tables }: SqliteStoreContext): EventLog {
  const appendToStream = createSqliteAppender(tables);
  return {
    async append(tx, request) {
      return appendToStream(connection.join(tx), request);
    },
    appendMany: createSqliteAppendMany(connection, appendToStream, createSingleEventAppender(tables)),
    // appendMany inside an open transaction of this store would wait for that transaction forever.
    assertCanAppendMany: () => connection.assertCanBegin(),
    streamVersion: (tx, streamId) =>
      connection.read(
        tx,
        (session) => session.get<{ version: number }>(streamVersionSql(tables), [streamId])?.version ?? 0,
      ),
    readStream: (tx, streamId, options) =>
      connection.read(tx, (session) => {
        const { sql, params } = readStreamQuery(tables, streamId, options);
        return session.all<EventRow>(sql, params).map(toStoredEvent);
      }),
    readAll: (cursor, options) =>
      connection.read(null, (session) => {
        const rows = session.all<EventRow>(
          `SELECT ${eventColumns} FROM ${tables.events} WHERE global_position > ? ORDER BY global_position LIMIT ?`,
          [cursor.position, options.limit],
        );
        return toGlobalBatch(cursor, rows);
      }),
    readByCorrelation: (correlationId, options) =>
      connection.read(null, (session) =>
        session
          .all<EventRow>(
            `SELECT ${eventColumns} FROM ${tables.events} WHERE correlation_id = ? ORDER BY global_position LIMIT ?`,
            [correlationId, options.limit],
          )
          .map(toStoredEvent),
      ),
    headPosition: () =>
      connection.read(
        null,
        (session) =>
          session.get<{ head: number | null }>(`SELECT max(global_position) AS head FROM ${tables.events}`)
            ?.head ?? 0,
      ),
    census: () =>
      connection.read(null, (session) => {
        const row = session.get<{ streams: number; events: number | null }>(
          `SELECT count(DISTINCT stream_id) AS streams, count(*) AS events FROM ${tables.events}`,
        );
        return { streams: row?.streams ?? 0, events: row?.events ?? 0 };
      }),
  };
}

function readStreamQuery(
  tables: SqliteTables,
  streamId: string,
  options: ReadStreamOptions,
): { sql: string; params: unknown[] } {
  const forward = options.direction === 'forward';
  const until = options.occurredUntil === undefined ? '' : 'AND occurred_at <= ?';
  const sql = `SELECT ${eventColumns} FROM ${tables.events}
    WHERE stream_id = ? AND stream_position ${forward ? '>=' : '<='} ? ${until}
    ORDER BY stream_position ${forward ? 'ASC' : 'DESC'} LIMIT ?`;
  const params: unknown[] = [streamId, options.fromVersion];
  if (options.occurredUntil !== undefined) params.push(options.occurredUntil);
  params.push(options.limit);
  return { sql, params };
}

function toGlobalBatch(cursor: GlobalCursor, rows: readonly EventRow[]): GlobalBatch {
  const events = rows.map(toStoredEvent);
  const last = events[events.length - 1];
  return { events, cursor: { position: last?.globalPosition ?? cursor.position }, heldBackMs: 0 };
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamPosition: row.stream_position,
    globalPosition: row.global_position,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    occurredAt: row.occurred_at,
    metadata: JSON.parse(row.metadata) as StoredEvent['metadata'],
    data: JSON.parse(row.data) as unknown,
  };
}
