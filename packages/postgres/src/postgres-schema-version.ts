/**
 * The newest migration this package applies (postgres-schema.ts; a test keeps the two equal). A
 * module of its own, so that a user's types need nothing of `pg` to read it.
 */
export const postgresSchemaVersion = 10;
