import pg from 'pg';

/**
 * Marks relayed outbox rows published, in batches, behind the publishes. The marks are
 * bookkeeping (the backlog figure, pruning, a switch back to the polling relay): delivery rests
 * on the slot's acknowledgement, so they commit without waiting for the WAL flush, and a mark
 * lost in a crash only leaves a published row looking unpublished.
 */
export function createOutboxMarker(
  connectionString: string,
  schema: string,
  onError?: (error: unknown) => void,
) {
  const table = `"${schema}".outbox`;
  let pool: pg.Pool | null = null;
  const queued: string[] = [];
  let marking: Promise<void> | null = null;

  function connection(): pg.Pool {
    pool ??= new pg.Pool({ connectionString, max: 1 });
    pool.on('error', () => {}); // an idle connection dropped: the next query opens another
    return pool;
  }

  async function markQueued(): Promise<void> {
    while (queued.length > 0) {
      const sequences = queued.splice(0, 10_000);
      try {
        await connection().query(
          `UPDATE ${table} SET published_at = now(), lease_owner = NULL, lease_until = NULL
             FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
            WHERE sequence = ANY ($1::bigint[]) AND published_at IS NULL`,
          [sequences],
        );
      } catch (error) {
        onError?.(error);
      }
    }
    marking = null;
  }

  return {
    /** Queues rows (by their `sequence`) to be marked published. */
    mark(sequences: readonly string[]): void {
      queued.push(...sequences);
      marking ??= markQueued();
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
