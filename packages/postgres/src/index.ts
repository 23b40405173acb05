export { mapPostgresError } from './map-postgres-error.ts';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
