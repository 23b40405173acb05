/**
 * The database a command looks into: a SQLite file, or a schema of a PostgreSQL database. Checked
 * before the store is opened, because opening creates what is missing, and a look must not write.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Store } from '@causeway/core';
import { createPostgresStore, postgresSchemaVersion } from '@causeway/postgres';
import { createSqliteStore, sqliteSchemaVersion } from '@causeway/sqlite';
import Database from 'better-sqlite3';
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

/** The schema version a database is at, and the one this tool's store package migrates to. */
export interface SchemaVersions {
  database: number;
  known: number;
}

/**
 * Refuses a database whose schema is at another version than this tool's store package: opening
 * an older one would migrate it (a look must not write), and a newer one has tables this tool
 * does not know.
 */
function checkSchemaVersion(versions: SchemaVersions, where: string, adapter: string): SchemaVersions {
  if (versions.database < versions.known)
    throw new CannotOpenError(
      `The schema of ${where} is at version ${versions.database}, this causeway's ${adapter} at ${versions.known}: opening it would migrate it. Start the service (its new release migrates it), or run the causeway of the service's release`,
    );
  if (versions.database > versions.known)
    throw new CannotOpenError(
      `The schema of ${where} is at version ${versions.database}, newer than this causeway's ${adapter} knows (${versions.known}): upgrade @causeway/cli`,
    );
  return versions;
}

function sqliteVersion(file: string): number {
  const database = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const table = database
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
      .get();
    if (!table) return 0;
    const row = database.prepare('SELECT max(version) AS version FROM schema_migrations').get() as {
      version: number | null;
    };
    return row.version ?? 0;
  } finally {
    database.close();
  }
}

/** Opens the database as a Store, after checking it is a Causeway database at this tool's schema version. */
export async function openDatabase(target: DatabaseTarget): Promise<Store> {
  return (await openDatabaseWithVersion(target)).store;
}

export async function openDatabaseWithVersion(
  target: DatabaseTarget,
): Promise<{ store: Store; schema: SchemaVersions }> {
  if (!isPostgresUrl(target.db)) {
    if (!existsSync(target.db))
      throw new CannotOpenError(
        `No SQLite database at ${target.db}: pass the service's file (e.g. .data/orders.db), or a postgres:// URL`,
      );
    const schema = checkSchemaVersion(
      { database: sqliteVersion(target.db), known: sqliteSchemaVersion },
      target.db,
      '@causeway/sqlite',
    );
    return { store: await createSqliteStore({ filename: target.db }), schema };
  }
  const client = new pg.Client({ connectionString: target.db, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new CannotOpenError(
      `Cannot reach PostgreSQL at ${redacted(target.db)} (${(error as Error).message}): is it running, and is the URL right?`,
    );
  }
  let schema: SchemaVersions;
  try {
    const { rows } = await client.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'`,
      [target.schema],
    );
    if (rows.length === 0)
      throw new CannotOpenError(
        `No Causeway tables in schema "${target.schema}" of ${redacted(target.db)}: pass --schema with the one the service uses`,
      );
    const applied = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${pg.escapeIdentifier(target.schema)}.migrations`,
    );
    schema = checkSchemaVersion(
      { database: applied.rows[0]?.version ?? 0, known: postgresSchemaVersion },
      `schema "${target.schema}" of ${redacted(target.db)}`,
      '@causeway/postgres',
    );
  } finally {
    await client.end();
  }
  return {
    store: await createPostgresStore({ connectionString: target.db, schema: target.schema, poolSize: 2 }),
    schema,
  };
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
