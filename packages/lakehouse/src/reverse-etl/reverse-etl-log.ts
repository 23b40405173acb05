/**
 * The reverse syncs' bookkeeping in its own schema (not a generation's: a replay of the models
 * must not make the syncs push everything again): each run, the last row pushed per key, and the
 * commands each run sent (what a replay sends again).
 */
import type { Lakehouse, LakehouseSession } from '../lakehouse.ts';
import { sqlTimestamp } from '../models/run-log.ts';

export type ReverseRunStatus = 'running' | 'success' | 'error';

/** One run of one sync, as logged. */
export interface ReverseRun {
  runId: string;
  sync: string;
  status: ReverseRunStatus;
  startedAt: string;
  endedAt: string | null;
  /** Rows the query answered (null for a replay, which reads no rows). */
  rows: number | null;
  /** Commands sent: keys whose row changed, appeared or left the result. */
  pushed: number;
  /** The run whose commands a replay sent again; null for a run of the query. */
  replayOf: string | null;
  error: string | null;
}

/** A command a run sent, as a replay sends it again. */
export interface LoggedPush {
  key: string;
  messageId: string;
  command: { destination: string; type: string; data: unknown };
}

export function createReverseEtlLog(lakehouse: Lakehouse, schema: string) {
  const table = (name: string) => `"${schema}".${name}`;
  let ensured: Promise<void> | null = null;

  function ensure(): Promise<void> {
    ensured ??= lakehouse.transaction(async (session) => {
      await session.run(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await session.run(`CREATE TABLE IF NOT EXISTS ${table('runs')} (
        run_id VARCHAR NOT NULL, sync VARCHAR NOT NULL, status VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP, rows BIGINT, pushed BIGINT NOT NULL,
        replay_of VARCHAR, error VARCHAR)`);
      await session.run(`CREATE TABLE IF NOT EXISTS ${table('pushed_rows')} (
        sync VARCHAR NOT NULL, key VARCHAR NOT NULL, row_json VARCHAR, run_id VARCHAR NOT NULL)`);
      await session.run(`CREATE TABLE IF NOT EXISTS ${table('pushes')} (
        run_id VARCHAR NOT NULL, sync VARCHAR NOT NULL, key VARCHAR NOT NULL,
        message_id VARCHAR NOT NULL, command_json VARCHAR NOT NULL)`);
    });
    ensured.catch(() => {
      ensured = null;
    });
    return ensured;
  }

  return {
    ensure,

    async started(run: { runId: string; sync: string; startedAt: string; replayOf: string | null }) {
      await ensure();
      await lakehouse.transaction((session) =>
        session.run(
          `INSERT INTO ${table('runs')} VALUES ($1, $2, 'running', CAST($3 AS TIMESTAMP), NULL, NULL, 0, $4, NULL)`,
          [run.runId, run.sync, sqlTimestamp(run.startedAt), run.replayOf],
        ),
      );
    },

    /** The row last pushed per key, as JSON (`null` once the key left the result). */
    async lastPushed(sync: string): Promise<Map<string, string>> {
      await ensure();
      const rows = await lakehouse.all<{ key: string; row_json: string }>(
        `SELECT key, row_json FROM ${table('pushed_rows')} WHERE sync = $1`,
        [sync],
      );
      return new Map(rows.map((row) => [row.key, row.row_json]));
    },

    /**
     * A run's commands are out: in one transaction, what was pushed per key, the commands (for a
     * replay) and the run's end. A crash before this commit only makes the next run push again.
     */
    async succeeded(
      run: { runId: string; sync: string; rows: number | null },
      pushes: ReadonlyArray<LoggedPush & { rowJson: string }>,
    ) {
      await lakehouse.transaction(async (session) => {
        for (const chunk of chunks(pushes, 500)) {
          await session.run(
            `DELETE FROM ${table('pushed_rows')} WHERE sync = $1 AND key IN (${chunk.map((_, at) => `$${at + 2}`).join(', ')})`,
            [run.sync, ...chunk.map((push) => push.key)],
          );
          await insertRows(
            session,
            table('pushed_rows'),
            chunk.map((push) => [run.sync, push.key, push.rowJson, run.runId]),
          );
        }
        for (const chunk of chunks(pushes, 500)) {
          await insertRows(
            session,
            table('pushes'),
            chunk.map((push) => [
              run.runId,
              run.sync,
              push.key,
              push.messageId,
              JSON.stringify(push.command),
            ]),
          );
        }
        await session.run(
          `UPDATE ${table('runs')} SET status = 'success', ended_at = CAST($1 AS TIMESTAMP), rows = $2, pushed = $3
           WHERE run_id = $4`,
          [sqlTimestamp(new Date().toISOString()), run.rows, pushes.length, run.runId],
        );
      });
    },

    async failed(runId: string, error: string) {
      await lakehouse.transaction((session) =>
        session.run(
          `UPDATE ${table('runs')} SET status = 'error', ended_at = CAST($1 AS TIMESTAMP), error = $2 WHERE run_id = $3`,
          [sqlTimestamp(new Date().toISOString()), error, runId],
        ),
      );
    },

    /** The commands a run sent (a replay's: those of the run it replayed), and that run's id. */
    async pushesOf(runId: string): Promise<{ sync: string; runId: string; pushes: LoggedPush[] } | null> {
      await ensure();
      const [run] = await lakehouse.all<{ sync: string; replay_of: string | null }>(
        `SELECT sync, replay_of FROM ${table('runs')} WHERE run_id = $1`,
        [runId],
      );
      if (!run) return null;
      const rows = await lakehouse.all<{ key: string; message_id: string; command_json: string }>(
        `SELECT key, message_id, command_json FROM ${table('pushes')} WHERE run_id = $1 ORDER BY rowid`,
        [run.replay_of ?? runId],
      );
      return {
        sync: run.sync,
        runId: run.replay_of ?? runId,
        pushes: rows.map((row) => ({
          key: row.key,
          messageId: row.message_id,
          command: JSON.parse(row.command_json),
        })),
      };
    },

    async runs(options: { limit: number; sync?: string }): Promise<ReverseRun[]> {
      await ensure();
      const rows = await lakehouse.all<Record<string, unknown>>(
        `SELECT run_id, sync, status, CAST(started_at AS VARCHAR) AS started_at,
           CAST(ended_at AS VARCHAR) AS ended_at, rows, pushed, replay_of, error
         FROM ${table('runs')} ${options.sync === undefined ? '' : 'WHERE sync = $1'}
         ORDER BY started_at DESC, rowid DESC LIMIT ${options.limit}`,
        options.sync === undefined ? [] : [options.sync],
      );
      return rows.map(runOf);
    },

    async run(runId: string): Promise<ReverseRun | null> {
      await ensure();
      const [row] = await lakehouse.all<Record<string, unknown>>(
        `SELECT run_id, sync, status, CAST(started_at AS VARCHAR) AS started_at,
           CAST(ended_at AS VARCHAR) AS ended_at, rows, pushed, replay_of, error
         FROM ${table('runs')} WHERE run_id = $1`,
        [runId],
      );
      return row ? runOf(row) : null;
    },

    /** Keeps the newest `keepRuns` runs and their commands: the log must not grow with age. */
    async prune(keepRuns: number) {
      const old = `SELECT run_id FROM ${table('runs')} ORDER BY started_at DESC, rowid DESC OFFSET ${keepRuns}`;
      await lakehouse.transaction(async (session) => {
        await session.run(`DELETE FROM ${table('pushes')} WHERE run_id IN (${old})`);
        await session.run(`DELETE FROM ${table('runs')} WHERE run_id IN (${old})`);
      });
    },
  };
}

export type ReverseEtlLog = ReturnType<typeof createReverseEtlLog>;

/** DuckDB's TIMESTAMP text (UTC) as JavaScript's ISO form, milliseconds always written. */
const isoOf = (text: unknown) =>
  typeof text === 'string' ? new Date(`${text.replace(' ', 'T')}Z`).toISOString() : null;

function runOf(row: Record<string, unknown>): ReverseRun {
  return {
    runId: String(row.run_id),
    sync: String(row.sync),
    status: row.status as ReverseRunStatus,
    startedAt: isoOf(row.started_at) ?? '',
    endedAt: isoOf(row.ended_at),
    rows: row.rows === null ? null : Number(row.rows),
    pushed: Number(row.pushed),
    replayOf: (row.replay_of as string | null) ?? null,
    error: (row.error as string | null) ?? null,
  };
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

async function insertRows(session: LakehouseSession, table: string, rows: ReadonlyArray<readonly unknown[]>) {
  if (rows.length === 0) return;
  const width = rows[0]?.length ?? 0;
  const tuples = rows.map(
    (_, row) =>
      `(${Array.from({ length: width }, (_, column) => `$${row * width + column + 1}`).join(', ')})`,
  );
  await session.run(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`, rows.flat() as never);
}
