import {
  type AppendRequest,
  type AppendResult,
  appendedEventsOutbox,
  ConcurrencyError,
  IdempotencyConflictError,
  type OutboxMessage,
  StoreFailureError,
  StoreUnavailableError,
  type Transaction,
  toLoneEventAppend,
} from '@causeway/core';
import { isRetryableError, isUniqueViolation } from './map-postgres-error.ts';
import type { PostgresConnection, PostgresQueryable } from './postgres-connection.ts';
import { type HandoffSlot, handedMessages } from './postgres-outbox-handoff.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

/**
 * How core's group committer feeds appendMany: requests per statement, and statements at once.
 * Two at once: one gathers and runs while the other waits for its WAL flush (measured with
 * `npm run bench -- store`).
 */
export const postgresAppendBatching = { maxRequests: 512, concurrency: 2 } as const;

interface AppendRow {
  request_index: number;
  ok: boolean;
  stream_version: number | null;
  stream_positions: number[] | null;
  global_positions: number[] | null;
  actual_version: number | null;
  deduplicated: boolean;
  idempotency_conflict: boolean;
  conflicting_ids: string[] | null;
  handed_ids: string[] | null;
}

/** Appends through `append_many`: one statement per call, whatever the number of requests. */
export interface PostgresAppender {
  append(tx: Transaction, request: AppendRequest): Promise<AppendResult>;
  appendMany(requests: readonly AppendRequest[]): Promise<Array<AppendResult | Error>>;
}

// Event data travels as JSON inside the one jsonb parameter: encoded once, never as a string in a string.
function encodeRequests(requests: readonly AppendRequest[]): string {
  return JSON.stringify(
    requests.map((request) => ({
      streamId: request.streamId,
      expectedVersion: request.expectedVersion,
      events: request.events,
      ...(request.outbox?.length ? { outbox: request.outbox } : {}),
      ...(request.publishTo ? { publishTo: request.publishTo } : {}),
    })),
  );
}

function toResult(request: AppendRequest, row: AppendRow): AppendResult | Error {
  if (row.idempotency_conflict) {
    const conflicts = row.conflicting_ids ?? [];
    return new IdempotencyConflictError(
      `Append to ${request.streamId} reuses event ids stored elsewhere or repeats one (${conflicts.join(', ') || 'duplicate ids in the request'}): give each new event a new id`,
      { streamId: request.streamId, conflicts },
    );
  }
  if (!row.ok)
    return new ConcurrencyError(request.streamId, request.expectedVersion, row.actual_version ?? 0);
  const streamPositions = row.stream_positions ?? [];
  const globalPositions = row.global_positions ?? [];
  return {
    streamId: request.streamId,
    nextExpectedVersion: row.stream_version ?? 0,
    positions: streamPositions.map((streamPosition, index) => ({
      streamPosition,
      globalPosition: globalPositions[index]!,
    })),
    deduplicated: row.deduplicated,
  };
}

const wrote = (result: AppendResult | Error) => !(result instanceof Error) && !result.deduplicated;
const writesOutbox = (request: AppendRequest) =>
  (request.outbox?.length ?? 0) > 0 || request.publishTo !== undefined;

/**
 * Indexes of `requests` in stream id order; a stream's own requests keep theirs (the sort is
 * stable). Concurrent batches wait on each other's (stream_id, stream_position) index entries;
 * taken in one global order, those waits cannot form a cycle (a deadlock).
 */
function streamOrder(requests: readonly AppendRequest[]): number[] {
  return requests
    .map((_, index) => index)
    .sort((a, b) => {
      const [left, right] = [requests[a]!.streamId, requests[b]!.streamId];
      return left < right ? -1 : left > right ? 1 : 0;
    });
}

/**
 * `append` runs the function in the caller's transaction. `appendMany` merges the calls of one
 * event-loop turn and sends them as ONE autocommit statement (atomic on its own: no BEGIN/COMMIT
 * round trips), then calls `onAppended` if anything was written, saying whether outbox rows were.
 */
export function createPostgresAppender(
  connection: PostgresConnection,
  schema: PostgresSchema,
  onAppended: (kind: 'events' | 'outbox') => void,
  handoff: HandoffSlot,
): PostgresAppender {
  const sql = prepared(
    `SELECT request_index, ok, stream_version, stream_positions, global_positions, actual_version,
            deduplicated, idempotency_conflict, conflicting_ids, handed_ids
       FROM ${schema.sql}.append_many($1::jsonb, $2::text, $3::int)`,
  );

  /**
   * One append_many statement. Its outbox rows that it leased to the relay's handoff are handed
   * over by `committed()`, called once the statement's transaction committed, which also wakes
   * this process (relays only if rows were left to a claim) and the others.
   */
  const run = async (database: PostgresQueryable, requests: readonly AppendRequest[]) => {
    const to = handoff.current;
    const rows = await database.query<AppendRow>(sql, [
      encodeRequests(requests),
      to?.owner ?? null,
      to?.leaseMs ?? null,
    ]);
    const results: Array<AppendResult | Error> = new Array(requests.length);
    for (const row of rows) results[row.request_index] = toResult(requests[row.request_index]!, row);
    if (rows.length !== requests.length || results.includes(undefined as never)) {
      throw new StoreFailureError(
        'postgres',
        `append_many returned ${rows.length} rows for ${requests.length} requests`,
      );
    }
    const handed: OutboxMessage[] = [];
    let leftToClaims = false;
    let written = false;
    for (const row of rows) {
      const request = requests[row.request_index]!;
      const result = results[row.request_index]!;
      if (!wrote(result)) continue;
      written = true;
      if (!writesOutbox(request)) continue;
      const messages = [...(request.outbox ?? []), ...appendedEventsOutbox(request, result as AppendResult)];
      const mine = handedMessages(messages, row.handed_ids ?? []);
      handed.push(...mine);
      if (mine.length < messages.length) leftToClaims = true;
    }
    const committed = () => {
      if (handed.length > 0) to!.take(handed);
      if (written) onAppended(leftToClaims ? 'outbox' : 'events');
    };
    return { results, committed };
  };

  const append = async (tx: Transaction, request: AppendRequest): Promise<AppendResult> => {
    const {
      results: [result],
      committed,
    } = await run(tx, [request]);
    if (result instanceof Error) throw result;
    tx.onCommit(committed);
    return result!;
  };

  // Alone in its own statement, retried when a concurrent transaction got in the way
  // (deadlock or serialization failure).
  const appendAlone = async (request: AppendRequest): Promise<AppendResult | Error> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const {
          results: [result],
          committed,
        } = await run(connection, [request]);
        committed();
        return result!;
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        const retryable = isRetryableError(cause) || isUniqueViolation(cause);
        if (!retryable || attempt >= 3) return error as Error;
      }
    }
  };

  const appendSingleEvent = createSingleEventAppend(connection, schema);

  const appendNow = async (requests: readonly AppendRequest[]): Promise<Array<AppendResult | Error>> => {
    const single = requests.length === 1 ? await appendSingleEvent(requests[0]!) : null;
    if (single) {
      onAppended('events');
      return [single];
    }
    try {
      const order = streamOrder(requests);
      const { results: sortedResults, committed } = await run(
        connection,
        order.map((index) => requests[index]!),
      );
      committed();
      const results: Array<AppendResult | Error> = new Array(requests.length);
      order.forEach((index, sortedIndex) => {
        results[index] = sortedResults[sortedIndex]!;
      });
      return results;
    } catch (error) {
      if (error instanceof StoreUnavailableError) return requests.map(() => error);
      // One request may have broken the batch (e.g. a deadlock with a caller's transaction): isolate it.
      const results: Array<AppendResult | Error> = [];
      for (const request of requests) results.push(await appendAlone(request));
      return results;
    }
  };

  return {
    append,
    appendMany: async (requests) => (requests.length === 0 ? [] : appendNow(requests)),
  };
}

/**
 * The common append (one event, no outbox or publishTo, alone in its batch) as one plain INSERT, without the
 * function call's overhead. The version check is its WHERE clause plus the unique index
 * (ON CONFLICT DO NOTHING), so it writes the event or nothing. The MATERIALIZED CTE assigns the
 * transaction id before `nextval` runs in the target list, which the global reader's gap proof
 * needs. Null when it wrote nothing (or cannot be used): append_many then sorts out conflict,
 * retry and dedupe.
 */
function createSingleEventAppend(connection: PostgresConnection, schema: PostgresSchema) {
  const s = schema.sql;
  const sql = prepared(`WITH assigned AS MATERIALIZED (SELECT pg_current_xact_id() AS xid),
      current AS (SELECT coalesce(max(stream_position), 0) AS version FROM ${s}.events WHERE stream_id = $2)
    INSERT INTO ${s}.events (global_position, event_id, stream_id, stream_position, type, schema_version,
      correlation_id, causation_id, occurred_at, metadata, data, transaction_id)
    SELECT nextval('${s}.events_global_position_seq'), $1, $2, current.version + 1, $3, $4, $5, $6, $7,
      $8::jsonb, $9::jsonb, assigned.xid
    FROM assigned, current
    WHERE CASE $10::bigint WHEN -1 THEN true WHEN -2 THEN current.version > 0 ELSE current.version = $10::bigint END
    ON CONFLICT DO NOTHING
    RETURNING global_position, stream_position`);
  return async (request: AppendRequest): Promise<AppendResult | null> => {
    const lone = toLoneEventAppend(request);
    if (!lone) return null;
    try {
      const [row] = await connection.query<{ global_position: number; stream_position: number }>(sql, [
        ...lone.eventParams,
        lone.versionCheck,
      ]);
      if (!row) return null;
      return {
        streamId: request.streamId,
        nextExpectedVersion: Number(row.stream_position),
        positions: [
          { streamPosition: Number(row.stream_position), globalPosition: Number(row.global_position) },
        ],
        deduplicated: false,
      };
    } catch {
      // Whatever went wrong wrote nothing; the function path reports it properly.
      return null;
    }
  };
}
