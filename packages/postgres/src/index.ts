export { mapPostgresError } from './map-postgres-error.ts';
export type { PostgresReplica, ReplicaStatus } from './postgres-replica-types.ts';
export { postgresSchemaVersion } from './postgres-schema-version.ts';
export { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
