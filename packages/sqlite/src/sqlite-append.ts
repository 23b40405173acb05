import {
  type AppendRequest,
  type AppendResult,
  ConcurrencyError,
  type ExpectedVersion,
  IdempotencyConflictError,
} from '@causeway/core';
import { insertOutboxMessages } from './sqlite-outbox-store.ts';
import type { SqliteTables } from './sqlite-schema.ts';
import type { SqliteTransaction } from './sqlite-transaction.ts';

interface ExistingEventRow {
  event_id: string;
  stream_id: string;
  stream_position: number;
  global_position: number;
}

/**
 * Appends one request in the caller's transaction. Every check happens before the first write,
 * so a failing request writes nothing; the caller holds SQLite's single write lock, so reading
 * the stream version and then writing cannot race with another writer.
 */
export function appendToStream(
  tx: SqliteTransaction,
  tables: SqliteTables,
  request: AppendRequest,
): AppendResult {
  const duplicate = findDuplicateAppend(tx, tables, request);
  if (duplicate !== null) return duplicate;
  const session = tx.session;
  const current =
    session.get<{ version: number }>(`SELECT version FROM ${tables.streams} WHERE stream_id = ?`, [
      request.streamId,
    ])?.version ?? 0;
  if (!matchesExpectedVersion(request.expectedVersion, current)) {
    throw new ConcurrencyError(request.streamId, request.expectedVersion, current);
  }
  const positions = request.events.map((event, index) => {
    const streamPosition = current + index + 1;
    const { lastInsertRowid } = session.run(
      `INSERT INTO ${tables.events} (event_id, stream_id, stream_position, type, schema_version,
        correlation_id, causation_id, occurred_at, metadata, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        event.id,
        request.streamId,
        streamPosition,
        event.type,
        event.schemaVersion,
        event.correlationId,
        event.causationId,
        event.occurredAt,
        JSON.stringify(event.metadata ?? {}),
        JSON.stringify(event.data ?? null),
      ],
    );
    return { streamPosition, globalPosition: lastInsertRowid };
  });
  const version = current + positions.length;
  if (positions.length > 0) {
    session.run(
      `INSERT INTO ${tables.streams} (stream_id, version) VALUES (?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version`,
      [request.streamId, version],
    );
    tx.markChanged();
  }
  if (request.outbox !== undefined) insertOutboxMessages(tx, tables, request.outbox);
  return { streamId: request.streamId, nextExpectedVersion: version, positions, deduplicated: false };
}

export function matchesExpectedVersion(expected: ExpectedVersion, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'noStream') return current === 0;
  if (expected === 'streamExists') return current > 0;
  return current === expected;
}

/**
 * A retried append (every event id already in this stream) returns the original positions and
 * writes nothing; checked before the version, since a retry's expected version is already stale.
 */
function findDuplicateAppend(
  tx: SqliteTransaction,
  tables: SqliteTables,
  request: AppendRequest,
): AppendResult | null {
  if (request.events.length === 0) return null;
  const ids = request.events.map((event) => event.id);
  const rows = tx.session.all<ExistingEventRow>(
    `SELECT event_id, stream_id, stream_position, global_position FROM ${tables.events}
     WHERE event_id IN (SELECT value FROM json_each(?))`,
    [JSON.stringify(ids)],
  );
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
