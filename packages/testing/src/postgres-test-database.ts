import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { serviceUrl } from './services.ts';

/** A database of its own for one test file; `drop()` removes it even with connections open. */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Drops databases with their replication slots: PostgreSQL refuses to drop a database a logical
 * slot belongs to, and a forgotten slot pins WAL on the server. A slot's walsender lets go a
 * moment after it is terminated, and a relay or change source still reconnecting can take it
 * again: this retries until the slots and the databases are gone.
 */
export async function dropDatabasesWithSlots(names: readonly string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
  admin.on('error', () => {});
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await admin.query(
          'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = ANY($1) AND active_pid IS NOT NULL',
          [names],
        );
        await admin.query(
          'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = ANY($1)',
          [names],
        );
        for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        return;
      } catch (error) {
        if (attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await admin.end().catch(() => {});
  }
}

/** Creates a fresh, uniquely named database (`cw_<label>_<random>`) on the POSTGRES_URL server. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `cw_${safeLabel}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
  admin.on('error', () => {});
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end().catch(() => {});
  }
  const url = new URL(serviceUrl('postgres'));
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => dropDatabasesWithSlots([name]) };
}
