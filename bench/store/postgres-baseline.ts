import pg from 'pg';
import { nextStream, rawEventRow } from './raw-event-row.ts';

/** Tables of the raw baselines, beside Causeway's schema in the same bench database. */
export async function createPostgresBaselineTables(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`
      CREATE SCHEMA raw;
      CREATE TABLE raw.events (global_position bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL, stream_position bigint NOT NULL, type text NOT NULL, occurred_at timestamptz NOT NULL,
        metadata jsonb NOT NULL, data jsonb NOT NULL, UNIQUE (stream_id, stream_position));
      CREATE TABLE raw.projected_rows (event_id text PRIMARY KEY, stream_id text NOT NULL, sku text NOT NULL, quantity int NOT NULL);
      CREATE TABLE raw.checkpoints (name text PRIMARY KEY, position bigint NOT NULL);`);
  } finally {
    await client.end();
  }
}

const rawColumns = 'id, stream_id, stream_position, type, occurred_at, metadata, data';

const pageSql = (eventsTable: string) => `SELECT global_position, stream_id, stream_position, event_id, type,
  schema_version, correlation_id, causation_id, occurred_at, metadata, data
  FROM ${eventsTable} WHERE global_position > $1 ORDER BY global_position LIMIT $2`;

interface PageRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  data: { sku: string; quantity: number };
}

/**
 * What the same work costs with plain `pg` and no Causeway: a Pool of `poolSize` connections and
 * hand-written SQL. Every operation returns how many rows (events) it did.
 */
export function createPostgresBaseline(options: {
  connectionString: string;
  poolSize: number;
  eventsTable: string;
}) {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize });
  pool.on('error', () => {});
  const readPage = (after: string | number, limit: number) =>
    pool.query<PageRow>(pageSql(options.eventsTable), [after, limit]);
  let readCursor: string | number = 0;
  let projectCursor: string | number = 0;

  return {
    /** One autocommit single-row INSERT. */
    async insertOne(): Promise<number> {
      await pool.query(
        `INSERT INTO raw.events (${rawColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        rawEventRow(nextStream(), 1),
      );
      return 1;
    },
    /** One autocommit INSERT of `count` rows in one statement. */
    async insertMany(count: number): Promise<number> {
      const stream = nextStream();
      const rows = Array.from({ length: count }, (_, index) => rawEventRow(stream, index + 1));
      const tuples = rows.map(
        (_, row) => `(${Array.from({ length: 7 }, (_, c) => `$${row * 7 + c + 1}`).join(', ')})`,
      );
      await pool.query(`INSERT INTO raw.events (${rawColumns}) VALUES ${tuples.join(', ')}`, rows.flat());
      return count;
    },
    /** The next keyset page of 1000 of Causeway's event table, decoded by pg only; wraps at the end. */
    async readNextPage(): Promise<number> {
      const { rows } = await readPage(readCursor, 1000);
      readCursor = rows.length === 0 ? 0 : rows[rows.length - 1]!.global_position;
      return rows.length;
    },
    /**
     * A hand-written SQL projection: read a page of 1000, then one transaction with one multi-row
     * INSERT (unnest) and the checkpoint. Starts over (emptying the table) at the end of the log.
     */
    async projectNextPage(): Promise<number> {
      const { rows } = await readPage(projectCursor, 1000);
      const client = await pool.connect();
      try {
        if (rows.length === 0) {
          await client.query('TRUNCATE raw.projected_rows');
          projectCursor = 0;
          return 0;
        }
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO raw.projected_rows (event_id, stream_id, sku, quantity)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])`,
          [
            rows.map((r) => r.event_id),
            rows.map((r) => r.stream_id),
            rows.map((r) => r.data.sku),
            rows.map((r) => r.data.quantity),
          ],
        );
        projectCursor = rows[rows.length - 1]!.global_position;
        await client.query(
          `INSERT INTO raw.checkpoints (name, position) VALUES ('rows', $1)
           ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position`,
          [projectCursor],
        );
        await client.query('COMMIT');
        return rows.length;
      } finally {
        client.release();
      }
    },
    /** The plain round trip the waitFor latency is compared with. */
    async selectOne(): Promise<void> {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}

export type PostgresBaseline = ReturnType<typeof createPostgresBaseline>;
