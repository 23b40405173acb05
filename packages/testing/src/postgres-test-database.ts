import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { serviceUrl } from './services.ts';

/** A database of its own for one test file; `drop()` removes it even with connections open. */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function runAdminStatement(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serviceUrl('postgres') });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates a fresh, uniquely named database (`cw_<label>_<random>`) on the POSTGRES_URL server. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const safeLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `cw_${safeLabel}_${randomBytes(5).toString('hex')}`;
  await runAdminStatement(`CREATE DATABASE "${name}"`);
  const url = new URL(serviceUrl('postgres'));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => runAdminStatement(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
