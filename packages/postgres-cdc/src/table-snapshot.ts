import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ChangeTransaction, Row } from './change.ts';
import { parseSnapshot, type ReadSnapshot, visibleIn } from './read-snapshot.ts';
import { snapshotRead } from './snapshot-read.ts';
import { type CapturedTable, qualified, quoteIdentifier } from './source-catalog.ts';
import { createStreamedTransactions } from './streamed-transactions.ts';

/** The prefix of the watermark messages the source writes into the WAL around each chunk. */
export const watermarkPrefix = 'causeway.cdc.watermark';

interface Watermark {
  readonly slot: string;
  readonly window: string;
  readonly mark: 'low' | 'high';
}

/** One chunk between its low and high watermark: the rows read, and the keys the stream changed meanwhile. */
interface Window {
  readonly id: string;
  readonly table: CapturedTable;
  readonly chunk: number;
  readonly generation: number;
  /** Set when the stream reaches the low watermark. */
  low: { lsn: string; position: number } | null;
  rows: Map<string, Row> | null;
  /** What the chunk's SELECT saw; set before the high watermark is written. */
  snapshot: ReadSnapshot | null;
  readonly changedKeys: Set<string>;
  settled: (outcome: 'delivered' | 'read-again') => void;
  failed: (error: unknown) => void;
}

const keyOf = (row: Row, columns: readonly string[]) => JSON.stringify(columns.map((column) => row[column]));

/**
 * Copies one table again while the stream goes on, in key-ordered chunks (the DBLog method, as
 * Debezium's incremental snapshots do). Around each chunk's SELECT the source writes a low and a
 * high watermark into the WAL; when the stream reaches the low one, every change it delivers for
 * the chunk's keys drops that key from the chunk, and at the high one the rows left are delivered
 * as `op: 'r'`. A row changed while its chunk was read is therefore delivered by the stream, never
 * overwritten by the older copy. Progress is kept per chunk, so a restart resumes the table.
 */
export function createTableSnapshots(options: { slot: string; database: string; chunkSize: number }) {
  const windows = new Map<string, Window>();
  const streamed = createStreamedTransactions();

  /**
   * PostgreSQL makes a transaction visible a moment after its commit record is written, so one
   * that committed before the low watermark can still be invisible to the chunk's SELECT: the
   * stream delivered its change before the window opened, and the chunk holds the older row. Such
   * a chunk is read again (the transaction is visible by then). A synchronous standby makes
   * that moment last until the standby confirms, and the ring remembers the last 100,000.
   */
  function missedByRead(window: Window): boolean {
    const { low, snapshot } = window;
    if (low === null || snapshot === null) return true;
    return streamed.anyBefore(low.position, window.table.schema, window.table.table, (xid) =>
      visibleIn(snapshot, xid),
    );
  }

  function parseWatermark(content: Buffer): Watermark | null {
    try {
      const parsed = JSON.parse(content.toString('utf8')) as Watermark;
      return parsed.slot === options.slot ? parsed : null;
    } catch {
      return null;
    }
  }

  function snapshotTransaction(window: Window, transaction: ChangeTransaction): ChangeTransaction {
    const { table } = window;
    return snapshotRead(window.rows?.values() ?? [], {
      slot: options.slot,
      database: options.database,
      table,
      // Each read of a chunk has ids of its own: one read again after a crash may hold other rows.
      position: `table-snapshot/${qualified(table.schema, table.table)}/${window.generation}/${window.chunk}@${window.low?.lsn}`,
      firstIndex: 0,
      lsn: transaction.lsn,
      commitTime: transaction.commitTime,
    });
  }

  return {
    /**
     * Passes a streamed transaction through the open windows. Returns what to hand to the
     * handler, in order, and what to run once it was handled (a chunk's completion).
     */
    intercept(transaction: ChangeTransaction): {
      deliver: ChangeTransaction[];
      afterDelivery: Array<() => void>;
    } {
      // Every streamed transaction passes here: with no copy running it goes on as it came.
      streamed.record(transaction);
      if (windows.size === 0 && transaction.messages.length === 0)
        return { deliver: [transaction], afterDelivery: [] };
      const deliver: ChangeTransaction[] = [];
      const afterDelivery: Array<() => void> = [];
      for (const window of windows.values()) {
        if (window.low === null) continue;
        for (const change of transaction.changes) {
          if (change.source.schema !== window.table.schema || change.source.table !== window.table.table)
            continue;
          if (change.op === 't') window.rows?.clear();
          else if (change.key !== null) window.changedKeys.add(keyOf(change.key, window.table.keyColumns));
        }
      }
      const marks = transaction.messages.filter((message) => message.prefix === watermarkPrefix);
      const rest = transaction.messages.filter((message) => message.prefix !== watermarkPrefix);
      if (transaction.changes.length > 0 || rest.length > 0) deliver.push({ ...transaction, messages: rest });
      for (const message of marks) {
        const mark = parseWatermark(message.content);
        const window = mark === null ? undefined : windows.get(mark.window);
        if (window === undefined || mark === null) continue; // another source's, or an abandoned attempt's
        if (mark.mark === 'low') window.low = { lsn: message.lsn, position: streamed.position };
        else if (window.low !== null) {
          windows.delete(window.id);
          if (missedByRead(window)) {
            window.settled('read-again');
            continue;
          }
          for (const key of window.changedKeys) window.rows?.delete(key);
          deliver.push(snapshotTransaction(window, transaction));
          afterDelivery.push(() => window.settled('delivered'));
        }
      }
      return { deliver, afterDelivery };
    },

    /** Fails the chunks in flight: the stream they waited on is gone (they are read again). */
    abandon(error: unknown): void {
      for (const window of windows.values()) window.failed(error);
      windows.clear();
    },

    /**
     * Reads and delivers the table chunk by chunk from where it stopped; resolves when it is done.
     * `client` is a connection of its own: each watermark commits on its own.
     */
    async run(
      client: pg.Client,
      table: CapturedTable,
      running: () => boolean,
      onProgress?: (rows: number, done: boolean) => void,
    ): Promise<void> {
      const name = qualified(table.schema, table.table);
      // An unfinished copy resumes; a finished one is a new request and starts over, with ids of
      // its own generation (the same ids again would be dropped by the consumers' inboxes).
      const progress = await client.query<{
        last_key: unknown[] | null;
        chunk: number;
        rows: string;
        done: boolean;
        generation: number;
      }>(
        `INSERT INTO causeway_cdc.table_snapshots AS t (slot, table_name) VALUES ($1, $2)
         ON CONFLICT (slot, table_name) DO UPDATE SET
           generation = CASE WHEN t.done THEN t.generation + 1 ELSE t.generation END,
           last_key = CASE WHEN t.done THEN NULL ELSE t.last_key END,
           chunk = CASE WHEN t.done THEN 0 ELSE t.chunk END,
           rows = CASE WHEN t.done THEN 0 ELSE t.rows END,
           requested_at = CASE WHEN t.done THEN now() ELSE t.requested_at END,
           completed_at = CASE WHEN t.done THEN NULL ELSE t.completed_at END,
           done = false
         RETURNING last_key, chunk, rows, done, generation`,
        [options.slot, name],
      );
      const { generation } = progress.rows[0]!;
      let { last_key: lastKey, chunk, done } = progress.rows[0]!;
      let copied = Number(progress.rows[0]!.rows);
      const keys = table.keyColumns.map(quoteIdentifier).join(', ');
      const from = `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.table)}`;
      let readAgain = 0;
      while (!done) {
        const window: Window = {
          id: randomUUID(),
          table,
          chunk,
          generation,
          low: null,
          rows: null,
          snapshot: null,
          changedKeys: new Set(),
          settled: () => {},
          failed: () => {},
        };
        const settled = new Promise<'delivered' | 'read-again'>((resolve, reject) => {
          window.settled = resolve;
          window.failed = reject;
        });
        settled.catch(() => {}); // awaited below; abandon() may reject it before that
        // Checked right before the window is registered, with no await between: a window
        // registered after stop() abandoned the others would wait for a stream that is gone.
        if (!running()) throw new Error(`The copy of ${name} stopped with its source`);
        windows.set(window.id, window);
        const emit = (mark: 'low' | 'high') =>
          client.query('SELECT pg_logical_emit_message(true, $1, $2)', [
            watermarkPrefix,
            JSON.stringify({ slot: options.slot, window: window.id, mark }),
          ]);
        await emit('low');
        const placeholders = table.keyColumns.map((_, index) => `$${index + 1}`).join(', ');
        // One snapshot for the rows and for the record of what they saw.
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const seen = await client.query<{ snapshot: string }>(
          'SELECT pg_current_snapshot()::text AS snapshot',
        );
        const { rows } = await client.query<Row>(
          lastKey === null
            ? `SELECT * FROM ${from} ORDER BY ${keys} LIMIT ${options.chunkSize}`
            : `SELECT * FROM ${from} WHERE (${keys}) > (${placeholders}) ORDER BY ${keys} LIMIT ${options.chunkSize}`,
          lastKey ?? [],
        );
        await client.query('COMMIT');
        window.rows = new Map(rows.map((row) => [keyOf(row, table.keyColumns), row]));
        window.snapshot = parseSnapshot(seen.rows[0]!.snapshot);
        await emit('high');
        if ((await settled) === 'read-again') {
          // A transaction was still becoming visible: usually a matter of moments, but a slow
          // synchronous standby can take longer, and each attempt writes two watermarks.
          readAgain += 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 5 * 2 ** readAgain)));
          continue;
        }
        readAgain = 0;
        const last = rows.at(-1);
        lastKey = last === undefined ? lastKey : table.keyColumns.map((column) => last[column]);
        chunk += 1;
        copied += rows.length;
        done = rows.length < options.chunkSize;
        await client.query(
          `UPDATE causeway_cdc.table_snapshots SET last_key = $3, chunk = $4, rows = $5, done = $6,
             completed_at = CASE WHEN $6 THEN now() END WHERE slot = $1 AND table_name = $2`,
          [options.slot, name, JSON.stringify(lastKey), chunk, copied, done],
        );
        onProgress?.(copied, done);
      }
    },
  };
}
