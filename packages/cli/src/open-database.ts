/**
 * The database a command looks into: a SQLite file, or a schema of a PostgreSQL database. Checked
 * before the store is opened, because opening creates what is missing, and a look must not write.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Store } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import pg from 'pg';

/** Nothing was looked at: the message says what is wrong and what to do. Exit code 2. */
export class CannotOpenError extends Error {
  override name = 'CannotOpenError';
}

export interface DatabaseTarget {
  /** A SQLite file path, or a postgres:// URL. */
  db: string;
  /** The PostgreSQL schema Causeway's tables are in (default `causeway`). */
  schema: string;
}

export const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//.test(db);

export async function openDatabase(target: DatabaseTarget): Promise<Store> {
  if (!isPostgresUrl(target.db)) {
    if (!existsSync(target.db))
      throw new CannotOpenError(
        `No SQLite database at ${target.db}: pass the service's file (e.g. .data/orders.db), or a postgres:// URL`,
      );
    return createSqliteStore({ filename: target.db });
  }
  const client = new pg.Client({ connectionString: target.db, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new CannotOpenError(
      `Cannot reach PostgreSQL at ${redacted(target.db)} (${(error as Error).message}): is it running, and is the URL right?`,
    );
  }
  try {
    const { rows } = await client.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'`,
      [target.schema],
    );
    if (rows.length === 0)
      throw new CannotOpenError(
        `No Causeway tables in schema "${target.schema}" of ${redacted(target.db)}: pass --schema with the one the service uses`,
      );
  } finally {
    await client.end();
  }
  return createPostgresStore({ connectionString: target.db, schema: target.schema, poolSize: 2 });
}

/** A short name for a database in a listing: a file's base name, or a URL's database. */
export function databaseName(db: string): string {
  if (isPostgresUrl(db)) return decodeURIComponent(new URL(db).pathname.slice(1)) || db;
  return basename(db).replace(/\.db$/, '');
}

/** The URL without its password, for messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
