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

/**
 * A test database whose drop first removes the replication slots on it: PostgreSQL refuses to
 * drop a database a logical slot belongs to, and a forgotten slot would pin WAL on the server.
 */
export async function createCdcTestDatabase(
  label: string,
): Promise<TestDatabase & { query(sql: string, values?: unknown[]): Promise<pg.QueryResult> }> {
  const database = await createTestDatabase(label);
  const name = new URL(database.url).pathname.slice(1);
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on('error', () => {});
  return {
    url: database.url,
    query: (sql, values) => pool.query(sql, values),
    async drop() {
      await pool.end().catch(() => {});
      const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
      admin.on('error', () => {});
      await admin.connect();
      try {
        // A slot's walsender lets go a moment after it is terminated, and a source still
        // reconnecting can hold one again: retry until the database has none and is dropped.
        for (let attempt = 0; ; attempt += 1) {
          try {
            await admin.query(
              'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL',
              [name],
            );
            await admin.query(
              'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1',
              [name],
            );
            await database.drop();
            return;
          } catch (error) {
            if (attempt >= 100) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      } finally {
        await admin.end().catch(() => {});
      }
    },
  };
}
