import type { EventLog, ReadStreamOptions, StoredEvent, Transaction } from '@causeway/core';
import { createPostgresAppender } from './postgres-appender.ts';
import type { PostgresConnection } from './postgres-connection.ts';
import { type EventRow, eventColumns, toStoredEvent } from './postgres-event-row.ts';
import { createPostgresGlobalReader } from './postgres-global-reader.ts';
import type { HandoffSlot } from './postgres-outbox-handoff.ts';
import type { PostgresSchema } from './postgres-schema.ts';

/**
 * The event log on PostgreSQL: appends through one PL/pgSQL function (group commit in one round
 * trip), stream reads by `(stream_id, stream_position)`, global reads that never skip.
 */
export function createPostgresEventLog(
  connection: PostgresConnection,
  schema: PostgresSchema,
  onAppended: (kind: 'events' | 'outbox') => void,
  handoff: HandoffSlot,
): EventLog {
  const s = schema.sql;
  const appender = createPostgresAppender(connection, schema, onAppended, handoff);

  async function readStream(
    tx: Transaction | null,
    streamId: string,
    options: ReadStreamOptions,
  ): Promise<StoredEvent[]> {
    const forward = options.direction === 'forward';
    const params: unknown[] = [streamId, options.fromVersion, options.limit];
    let until = '';
    if (options.occurredUntil !== undefined) {
      params.push(options.occurredUntil);
      until = `AND occurred_at <= $4::timestamptz`;
    }
    const rows = await (tx ?? connection).query<EventRow>(
      `SELECT ${eventColumns} FROM ${s}.events
        WHERE stream_id = $1 AND stream_position ${forward ? '>=' : '<='} $2 ${until}
        ORDER BY stream_position ${forward ? 'ASC' : 'DESC'} LIMIT $3`,
      params,
    );
    return rows.map(toStoredEvent);
  }

  return {
    append: appender.append,
    appendMany: appender.appendMany,
    async streamVersion(tx, streamId) {
      // The last position, found by a backward scan of the (stream_id, stream_position) index.
      const [row] = await (tx ?? connection).query<{ version: number }>(
        `SELECT coalesce(max(stream_position), 0)::bigint AS version FROM ${s}.events WHERE stream_id = $1`,
        [streamId],
      );
      return row?.version ?? 0;
    },
    readStream,
    readAll: createPostgresGlobalReader(connection, schema),
    async readByCorrelation(correlationId, options) {
      const rows = await connection.query<EventRow>(
        `SELECT ${eventColumns} FROM ${s}.events WHERE correlation_id = $1 ORDER BY global_position LIMIT $2`,
        [correlationId, options.limit],
      );
      return rows.map(toStoredEvent);
    },
    async headPosition() {
      const [row] = await connection.query<{ head: number }>(
        `SELECT coalesce(max(global_position), 0)::bigint AS head FROM ${s}.events`,
      );
      return row?.head ?? 0;
    },
    async census() {
      const [row] = await connection.query<{ streams: number; events: number }>(
        `SELECT count(DISTINCT stream_id)::bigint AS streams, count(*)::bigint AS events FROM ${s}.events`,
      );
      return { streams: row?.streams ?? 0, events: row?.events ?? 0 };
    },
  };
}
