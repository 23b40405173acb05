import pg from 'pg';

/**
 * Marks relayed outbox rows published, in batches: whatever was published while one UPDATE ran
 * goes in the next. The relay acknowledges a transaction to the slot only once its rows are
 * marked, so a relay killed in between publishes and marks them again: no row stays unpublished
 * in the table once it was sent (the backlog figure, pruning and a switch back to the polling
 * relay rely on that). The marks commit without waiting for the WAL flush: a server crash loses
 * the slot's unflushed acknowledgement with them, and the stream brings the rows again.
 */
export function createOutboxMarker(
  connectionString: string,
  schema: string,
  onError?: (error: unknown) => void,
) {
  const table = `"${schema}".outbox`;
  let pool: pg.Pool | null = null;
  let queued: Array<{ sequences: readonly string[]; resolve(): void; reject(error: unknown): void }> = [];
  let marking: Promise<void> | null = null;

  function connection(): pg.Pool {
    if (pool === null) {
      pool = new pg.Pool({ connectionString, max: 1 });
      pool.on('error', () => {}); // an idle connection dropped: the next query opens another
    }
    return pool;
  }

  async function markQueued(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      try {
        await connection().query(
          `UPDATE ${table} SET published_at = now(), lease_owner = NULL, lease_until = NULL
             FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
            WHERE sequence = ANY ($1::bigint[]) AND published_at IS NULL`,
          [batch.flatMap((each) => each.sequences)],
        );
        for (const each of batch) each.resolve();
      } catch (error) {
        onError?.(error);
        for (const each of batch) each.reject(error);
      }
    }
    marking = null;
  }

  return {
    /** Marks rows (by their `sequence`) published; resolves once the mark committed. */
    mark(sequences: readonly string[]): Promise<void> {
      return new Promise((resolve, reject) => {
        queued.push({ sequences, resolve, reject });
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
