import pg from 'pg';
import { parseSnapshot, visibleIn } from './read-snapshot.ts';

/**
 * Marks relayed outbox rows published, in batches: whatever was published while one UPDATE ran
 * goes in the next. The relay acknowledges a transaction to the slot only once its rows are
 * marked, so a relay killed in between publishes and marks them again: no row stays unpublished
 * in the table once it was sent (the backlog figure, pruning and a switch back to the polling
 * relay rely on that). The marks commit without waiting for the WAL flush: a server crash loses
 * the slot's unflushed acknowledgement with them, and the stream brings the rows again.
 *
 * A streamed transaction can still be invisible to a read for a moment (PostgreSQL streams a
 * commit once it is flushed and makes it visible after): an UPDATE then would mark none of its
 * rows. Each UPDATE returns its snapshot, and the marks of transactions it did not see are made
 * again a moment later.
 */
interface Mark {
  readonly sequences: readonly string[];
  /** The transaction that inserted the rows; null for rows read from the slot's snapshot. */
  readonly xid: number | null;
  resolve(): void;
  reject(error: unknown): void;
}

export function createOutboxMarker(
  connectionString: string,
  schema: string,
  onError?: (error: unknown) => void,
) {
  const table = `"${schema}".outbox`;
  let pool: pg.Pool | null = null;
  let queued: Mark[] = [];
  let marking: Promise<void> | null = null;

  function connection(): pg.Pool {
    if (pool === null) {
      pool = new pg.Pool({ connectionString, max: 1 });
      pool.on('error', () => {}); // an idle connection dropped: the next query opens another
    }
    return pool;
  }

  async function markQueued(): Promise<void> {
    let unseenRounds = 0;
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      try {
        // One statement, one snapshot: the one the UPDATE read with.
        const { rows } = await connection().query<{ snapshot: string }>(
          `WITH marked AS (
             UPDATE ${table} SET published_at = now(), lease_owner = NULL, lease_until = NULL
               FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
              WHERE sequence = ANY ($1::bigint[]) AND published_at IS NULL
             RETURNING 1)
           SELECT pg_current_snapshot()::text AS snapshot FROM (SELECT count(*) FROM marked) AS done`,
          [batch.flatMap((each) => each.sequences)],
        );
        const snapshot = parseSnapshot(rows[0]!.snapshot);
        const unseen = batch.filter((each) => each.xid !== null && !visibleIn(snapshot, each.xid));
        for (const each of batch) if (!unseen.includes(each)) each.resolve();
        if (unseen.length > 0) {
          queued.push(...unseen);
          unseenRounds += 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(2 ** unseenRounds, 100)));
        } else unseenRounds = 0;
      } catch (error) {
        onError?.(error);
        for (const each of batch) each.reject(error);
      }
    }
    marking = null;
  }

  return {
    /** Marks rows (by their `sequence`) published; resolves once the mark committed. */
    mark(sequences: readonly string[], xid: number | null): Promise<void> {
      return new Promise((resolve, reject) => {
        queued.push({ sequences, xid, resolve, reject });
        marking ??= markQueued();
      });
    },

    /** Resolves once every queued mark was written. */
    async flush(): Promise<void> {
      while (marking !== null) await marking;
    },

    async backlog(): Promise<number> {
      const { rows } = await connection().query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${table} WHERE published_at IS NULL`,
      );
      return rows[0]!.count;
    },

    async close(): Promise<void> {
      await this.flush();
      const closing = pool;
      pool = null;
      await closing?.end();
    },
  };
}
