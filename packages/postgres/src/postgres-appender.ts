import {
  type AppendRequest,
  type AppendResult,
  ConcurrencyError,
  IdempotencyConflictError,
  StoreFailureError,
  StoreUnavailableError,
  type Transaction,
} from '@causeway/core';
import { isRetryableError, isUniqueViolation } from './map-postgres-error.ts';
import type { PostgresConnection } from './postgres-connection.ts';
import type { PostgresSchema } from './postgres-schema.ts';

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
}

/** Appends through `append_many(jsonb)`: one statement per call, whatever the number of requests. */
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
      outbox: request.outbox ?? [],
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

export function createPostgresAppender(
  connection: PostgresConnection,
  schema: PostgresSchema,
  onAppended: () => void,
): PostgresAppender {
  const sql = `SELECT * FROM ${schema.sql}.append_many($1::jsonb) ORDER BY request_index`;

  const run = async (tx: Transaction, requests: readonly AppendRequest[]) => {
    const rows = await tx.query<AppendRow>(sql, [encodeRequests(requests)]);
    tx.onCommit(onAppended);
    return rows.map((row) => toResult(requests[row.request_index]!, row));
  };

  const append = async (tx: Transaction, request: AppendRequest): Promise<AppendResult> => {
    const [result] = await run(tx, [request]);
    if (result instanceof Error) throw result;
    if (result === undefined) throw new StoreFailureError('postgres', 'append_many returned no row');
    return result;
  };

  // Alone in its own transaction, retried when a concurrent transaction got in the way
  // (deadlock, serialization, or a racing append of the same event id, which becomes a dedupe).
  const appendAlone = async (request: AppendRequest): Promise<AppendResult | Error> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connection.transaction((tx) => append(tx, request));
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        const retryable = isRetryableError(cause) || isUniqueViolation(cause);
        if (!retryable || attempt >= 3) return error as Error;
      }
    }
  };

  return {
    append,
    async appendMany(requests) {
      if (requests.length === 0) return [];
      try {
        return await connection.transaction((tx) => run(tx, requests));
      } catch (error) {
        if (error instanceof StoreUnavailableError) return requests.map(() => error);
        // One request may have broken the batch (e.g. a racing duplicate id): isolate it.
        const results: Array<AppendResult | Error> = [];
        for (const request of requests) results.push(await appendAlone(request));
        return results;
      }
    },
  };
}
