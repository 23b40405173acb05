/**
 * The newest migration this package applies (sqlite-schema.ts; a test keeps the two equal). A
 * module of its own, so that a user's types need nothing of `better-sqlite3` to read it.
 */
export const sqliteSchemaVersion = 6;
