import { createTestDatabase, isPostgresReachable, serviceUrl, type TestDatabase } from '@causeway/testing';
import pg from 'pg';

/** Why the CDC suites cannot run here, or null: they need PostgreSQL with wal_level=logical. */
export async function logicalDecodingMissing(): Promise<string | null> {
  if (!(await isPostgresReachable())) return `PostgreSQL not reachable at ${serviceUrl('postgres')}`;
  const client = new pg.Client({ connectionString: serviceUrl('postgres') });
  client.on('error', () => {});
  await client.connect();
  try {
    const level = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
    return level === 'logical'
      ? null
      : `PostgreSQL runs with wal_level=${level}; change data capture needs logical: psql -U postgres -c "ALTER SYSTEM SET wal_level = logical" && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart (.ci/run does this)`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A test database with a pool to query it; its drop also removes the replication slots on it. */
export async function createCdcTestDatabase(
  label: string,
): Promise<TestDatabase & { query(sql: string, values?: unknown[]): Promise<pg.QueryResult> }> {
  const database = await createTestDatabase(label);
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on('error', () => {});
  return {
    url: database.url,
    query: (sql, values) => pool.query(sql, values),
    async drop() {
      await pool.end().catch(() => {});
      await database.drop();
    },
  };
}
