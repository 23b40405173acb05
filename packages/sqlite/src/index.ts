export { sqliteSchemaVersion } from './sqlite-schema-version.ts';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
