import type Database from 'better-sqlite3';
import { retryWhileBusy } from './embedded-busy.ts';

export interface RetentionSettings {
  partitions: number;
  busyTimeoutMs: number;
  /** An entry every known group has acked is deleted once it is older than this. */
  retentionMs: number;
  /** An entry older than this is deleted even if a known group has not acked it (Infinity: never). */
  maxAgeMs: number;
  /** Rows deleted per write transaction, so that the write lock is held for milliseconds only. */
  batchSize: number;
  /** Whether the transport is still open: a prune stops between batches once it is closed. */
  isOpen(): boolean;
}

export interface PruneResult {
  /** Entries deleted. */
  readonly deleted: number;
  /** Of these, entries some known group had not acked yet: deleted only for being past `maxAgeMs`. */
  readonly unread: number;
}

interface Cutoffs {
  /** Acked by every known group and published before this: deleted. */
  readonly retention: number;
  /** Published before this: deleted, acked or not. */
  readonly maxAge: number;
}

interface HeadRow {
  seq: number;
  published_at: number;
}

interface Prefix {
  /** The last seq of the deletable head of the partition, or null when nothing is deletable. */
  readonly last: number | null;
  readonly count: number;
  readonly unread: number;
}

/** Free pages given back to the file system per write transaction (4 MB with 4 KB pages). */
const vacuumPagesPerStep = 1_000;

/**
 * Time-based retention of the log. Per (destination, partition), the head of the log is deleted
 * while its entries are either acked by every known group (a group is known once it has a cursor,
 * i.e. subscribed once) and older than `retentionMs`, or older than `maxAgeMs`. Only a head is ever
 * deleted, so a partition's log stays contiguous, and one entry that must stay keeps the entries
 * after it too. seq order is commit order and `published_at` is taken just before the commit, so
 * the log is in time order up to the busy timeout; a jump of the wall clock shifts the ages of the
 * entries published around it by as much (as it shifts leases).
 *
 * Each batch is one short write transaction; a partition with nothing to delete costs two indexed
 * reads and no write lock. A deleted entry that a group had in flight is cleared from its cursor,
 * so the partition moves on to the next entry.
 */
export function createEmbeddedRetention(db: Database.Database, settings: RetentionSettings) {
  // A loose index scan: one index seek per destination instead of a scan of the whole log.
  const destinations = db
    .prepare<[], string>(
      `WITH RECURSIVE d(destination) AS (
         SELECT min(destination) FROM transport_messages
         UNION ALL
         SELECT (SELECT min(destination) FROM transport_messages WHERE destination > d.destination)
           FROM d WHERE d.destination IS NOT NULL)
       SELECT destination FROM d WHERE destination IS NOT NULL`,
    )
    .pluck();
  const head = db.prepare<[string, number, number], HeadRow>(
    `SELECT seq, published_at FROM transport_messages WHERE destination = ? AND partition = ?
      ORDER BY seq LIMIT ?`,
  );
  // The lowest cursor of the known groups: every entry up to it has been acked by all of them.
  const lowWater = db
    .prepare<[string, number], number | null>(
      'SELECT min(acked_seq) FROM transport_cursors WHERE destination = ? AND partition = ?',
    )
    .pluck();
  const deleteHead = db.prepare(
    'DELETE FROM transport_messages WHERE destination = ? AND partition = ? AND seq <= ?',
  );
  const clearDeletedInFlight = db.prepare(
    `UPDATE transport_cursors SET in_flight_seq = NULL, attempt = 0, not_before = 0
      WHERE destination = ? AND partition = ? AND in_flight_seq <= ?`,
  );

  function deletablePrefix(destination: string, partition: number, limit: number, cutoffs: Cutoffs): Prefix {
    const low = lowWater.get(destination, partition) ?? Number.POSITIVE_INFINITY;
    let last: number | null = null;
    let count = 0;
    let unread = 0;
    for (const row of head.all(destination, partition, limit)) {
      const acked = row.seq <= low;
      const expired = row.published_at < cutoffs.maxAge;
      if (!expired && !(acked && row.published_at < cutoffs.retention)) break;
      last = row.seq;
      count++;
      if (!acked) unread++;
    }
    return { last, count, unread };
  }

  const pruneBatch = retryWhileBusy(
    db.transaction((destination: string, partition: number, cutoffs: Cutoffs): Prefix => {
      const prefix = deletablePrefix(destination, partition, settings.batchSize, cutoffs);
      if (prefix.last !== null) {
        deleteHead.run(destination, partition, prefix.last);
        if (prefix.unread > 0) clearDeletedInFlight.run(destination, partition, prefix.last);
      }
      return prefix;
    }).immediate,
    settings.busyTimeoutMs,
  );

  const autoVacuum = db.pragma('auto_vacuum', { simple: true }) === 2;
  const freePages = () => db.pragma('freelist_count', { simple: true }) as number;
  // exec, not a prepared statement: each step of a prepared incremental_vacuum frees one page only.
  const vacuumStep = retryWhileBusy(
    () => db.exec(`PRAGMA incremental_vacuum(${vacuumPagesPerStep})`),
    settings.busyTimeoutMs,
  );

  /** Gives the free pages back to the file system (files created with auto_vacuum = INCREMENTAL). */
  async function releaseFreePages(): Promise<void> {
    if (!autoVacuum) return;
    let steps = Math.ceil(freePages() / vacuumPagesPerStep);
    while (steps-- > 0 && settings.isOpen() && freePages() > 0) {
      vacuumStep();
      await yieldToEventLoop();
    }
  }

  return {
    /** Deletes what retention allows as of `now`, batch by batch, and shrinks the file. */
    async prune(now: number): Promise<PruneResult> {
      const cutoffs = { retention: now - settings.retentionMs, maxAge: now - settings.maxAgeMs };
      let deleted = 0;
      let unread = 0;
      for (const destination of destinations.all()) {
        for (let partition = 0; partition < settings.partitions; partition++) {
          for (;;) {
            if (!settings.isOpen()) return { deleted, unread };
            // Read first, without the write lock: most partitions have nothing to delete.
            if (deletablePrefix(destination, partition, 1, cutoffs).count === 0) break;
            const batch = pruneBatch(destination, partition, cutoffs);
            deleted += batch.count;
            unread += batch.unread;
            await yieldToEventLoop();
            if (batch.count < settings.batchSize) break;
          }
        }
      }
      if (deleted > 0) await releaseFreePages();
      return { deleted, unread };
    },
  };
}

export type EmbeddedRetention = ReturnType<typeof createEmbeddedRetention>;

/** Lets deliveries of this process, and writers of other processes, in between two batches. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
