import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the bench uses: POSTGRES_URL, or the loopback default of the test suites. */
export const postgresServerUrl = process.env.POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function runAdminStatement(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresServerUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh database `cw_bench_<random>` for one run; `drop()` removes it even with connections open. */
export async function createBenchDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `cw_bench_${randomBytes(5).toString('hex')}`;
  await runAdminStatement(`CREATE DATABASE "${name}"`);
  const url = new URL(postgresServerUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => runAdminStatement(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
