import type { AppendRequest, AppendResult } from '@causeway/core';
import type { createSingleEventAppender, SqliteAppender } from './sqlite-append.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { toSqliteStoreError } from './sqlite-errors.ts';
import type { SqliteTransaction } from './sqlite-transaction.ts';

type AppendOutcome = AppendResult | Error;

/**
 * `appendMany` on SQLite: the requests core's group committer gathered, in one BEGIN
 * IMMEDIATE...COMMIT. Each request keeps its own version check and its own result or error.
 */
export function createSqliteAppendMany(
  connection: SqliteConnection,
  appendToStream: SqliteAppender,
  appendSingleEvent: ReturnType<typeof createSingleEventAppender>,
): (requests: readonly AppendRequest[]) => Promise<AppendOutcome[]> {
  return async (requests) => {
    if (requests.length === 0) return [];
    return connection.gathered((locked) => {
      // Alone, a one-event append needs no BEGIN/COMMIT: one statement does it (null if not that).
      const fast = requests.length === 1 ? appendSingleEvent(locked.session, requests[0]!) : null;
      if (fast) {
        locked.markChanged();
        return [fast];
      }
      return locked.transaction(async (tx) =>
        requests.map((request) => appendAlone(tx, appendToStream, request)),
      );
    });
  };
}

/**
 * One request of a group commit. A failing append writes nothing and leaves the transaction
 * open, so no savepoint is needed; if SQLite ended the transaction itself, the batch fails whole.
 */
function appendAlone(
  tx: SqliteTransaction,
  appendToStream: SqliteAppender,
  request: AppendRequest,
): AppendOutcome {
  try {
    return appendToStream(tx, request);
  } catch (error) {
    if (!tx.session.inTransaction) throw error;
    return toSqliteStoreError(error, `append to stream ${request.streamId} failed`);
  }
}
