import type { AppendRequest, AppendResult } from '@causeway/core';
import type { createSingleEventAppender, SqliteAppender } from './sqlite-append.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { toSqliteStoreError } from './sqlite-errors.ts';
import type { SqliteTransaction } from './sqlite-transaction.ts';

type AppendOutcome = AppendResult | Error;

interface PendingCall {
  readonly requests: readonly AppendRequest[];
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit for a synchronous driver. A transaction runs start to finish without yielding, so
 * appends that callers are still preparing could never join it. Instead the first `appendMany`
 * call queues a transaction that begins after the current turn of the event loop, and every call
 * made until it begins joins it: one BEGIN IMMEDIATE...COMMIT for all of them. Each request
 * keeps its own version check and its own result or error.
 */
export function createSqliteAppendBatcher(
  connection: SqliteConnection,
  appendToStream: SqliteAppender,
  appendSingleEvent: ReturnType<typeof createSingleEventAppender>,
): (requests: readonly AppendRequest[]) => Promise<AppendOutcome[]> {
  let pending: PendingCall[] = [];
  // Waiting a turn of the event loop only pays when others append too: a lone appender would
  // pay it on every append. Gather while the last commit had company.
  let lastGroupSize = 1;

  function commitPending(): void {
    let calls: PendingCall[] = [];
    const work = async (
      locked: Parameters<Parameters<SqliteConnection['gathered']>[0]>[0],
    ): Promise<AppendOutcome[][]> => {
      calls = pending;
      pending = [];
      lastGroupSize = calls.length;
      // Alone in its batch, a one-event append needs no BEGIN/COMMIT: one statement does it.
      const only = calls.length === 1 && calls[0]!.requests.length === 1 ? calls[0]!.requests[0]! : null;
      const fast = only ? appendSingleEvent(locked.session, only) : null;
      if (fast) {
        locked.markChanged();
        return [[fast]];
      }
      return locked.transaction(async (tx) =>
        calls.map((call) => call.requests.map((request) => appendAlone(tx, appendToStream, request))),
      );
    };
    connection.gathered(work, { gather: lastGroupSize > 1 }).then(
      (outcomes) => {
        for (const [index, call] of calls.entries()) call.resolve(outcomes[index]!);
      },
      (error: unknown) => {
        // The transaction failed as a whole, or never began (store closed, lock timeout).
        if (calls.length === 0) [calls, pending] = [pending, []];
        for (const call of calls) call.reject(error);
      },
    );
  }

  return (requests) =>
    new Promise((resolve, reject) => {
      // Checked in the caller's context (a call inside a transaction would wait for itself),
      // so that one misplaced call fails alone instead of failing the shared commit.
      connection.assertCanBegin();
      if (requests.length === 0) return resolve([]);
      pending.push({ requests, resolve, reject });
      if (pending.length === 1) commitPending();
    });
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
