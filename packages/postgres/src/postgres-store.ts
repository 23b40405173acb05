import { randomUUID } from 'node:crypto';
import { ConfigurationError, primaryReads, type Store, sessionTargetOf } from '@causeway/core';
import pg from 'pg';
import { mapPostgresError } from './map-postgres-error.ts';
import { postgresAppendBatching } from './postgres-appender.ts';
import { createPostgresChangeAnnouncer } from './postgres-change-announcer.ts';
import { createPostgresChangeListener } from './postgres-change-listener.ts';
import { createPostgresCheckpointStore } from './postgres-checkpoint-store.ts';
import { clientOptions, createPostgresConnection, describeTarget } from './postgres-connection.ts';
import { createPostgresDeadLetterStore } from './postgres-dead-letter-store.ts';
import { createPostgresDocumentStore } from './postgres-document-store.ts';
import { createPostgresEventLog } from './postgres-event-log.ts';
import { createPostgresInboxStore } from './postgres-inbox-store.ts';
import { createPostgresKeyStore } from './postgres-key-store.ts';
import type { HandoffSlot } from './postgres-outbox-handoff.ts';
import { createPostgresOutboxStore } from './postgres-outbox-store.ts';
import type { PostgresReplica, ReplicaStatus } from './postgres-replica-types.ts';
import { createPostgresReplicas } from './postgres-replicas.ts';
import { createPostgresSagaStore } from './postgres-saga-store.ts';
import { describeSchema, migrateSchema, type PostgresSchema } from './postgres-schema.ts';
import { createPostgresSnapshotStore } from './postgres-snapshot-store.ts';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Where every table lives; services sharing a database each take their own. Default 'causeway'. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /**
   * Streaming replicas of this database (URLs, or URLs with names): `store.read` runs eventual
   * reads there, and session reads once they have replayed the reader's write. Each gets a pool
   * of `poolSize` connections.
   */
  replicas?: ReadonlyArray<string | PostgresReplica>;
  /** How long a session read waits for a replica to replay its write before reading the primary (default 1000 ms). */
  sessionWaitMs?: number;
}

/** The PostgreSQL store: the Store port, and the state of its replicas. */
export interface PostgresStore extends Store {
  /** Each replica: reachable, how far behind the primary (bytes and time), replay paused. */
  replicaStatus(): Promise<ReplicaStatus[]>;
}

function validate(options: PostgresStoreOptions): {
  schema: string;
  poolSize: number;
  sessionWaitMs: number;
} {
  const schema = options.schema ?? 'causeway';
  // The name is spliced into SQL (quoted), so only plain lower-case identifiers are accepted.
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) {
    throw new ConfigurationError(
      `Postgres schema "${schema}" is invalid: use lower-case letters, digits and _ (at most 51 characters)`,
      { schema },
    );
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ConfigurationError(`Postgres poolSize must be an integer >= 1, got ${poolSize}`, { poolSize });
  }
  const sessionWaitMs = options.sessionWaitMs ?? 1_000;
  if (!Number.isInteger(sessionWaitMs) || sessionWaitMs < 0) {
    throw new ConfigurationError(
      `Postgres sessionWaitMs must be a whole number of ms >= 0, got ${sessionWaitMs}`,
      {
        sessionWaitMs,
      },
    );
  }
  return { schema, poolSize, sessionWaitMs };
}

async function migrate(connectionString: string, schema: PostgresSchema, name: string): Promise<void> {
  const client = new pg.Client(clientOptions(connectionString, name));
  client.on('error', () => {});
  try {
    await client.connect();
    await migrateSchema(client, schema);
  } catch (error) {
    throw mapPostgresError(error, describeTarget(connectionString));
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Opens a PostgreSQL Store: migrates its schema (idempotent, safe with several processes), then
 * serves transactions from a pool. Concurrent writers, group commit, and LISTEN/NOTIFY wake-ups.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { schema: schemaName, poolSize, sessionWaitMs } = validate(options);
  const schema = describeSchema(schemaName);
  await migrate(options.connectionString, schema, schemaName);
  const connection = createPostgresConnection({
    connectionString: options.connectionString,
    schema: schemaName,
    poolSize,
  });
  const storeId = randomUUID();
  const changes = createPostgresChangeListener({
    connectionString: options.connectionString,
    schema: schemaName,
    channel: schema.channel,
    storeId,
  });
  const announcer = createPostgresChangeAnnouncer(connection, schema.channel, storeId);
  // After a local commit of events or outbox rows: wake this process now, the others by NOTIFY.
  const onCommitted = (kind: 'events' | 'outbox') => {
    changes.notifyLocal(kind);
    announcer.announce();
  };
  const handoff: HandoffSlot = { current: null };
  const store: Omit<Store, 'read'> = {
    name: 'postgres',
    capabilities: {
      concurrentWriters: true,
      dialect: 'postgres',
      appendBatching: postgresAppendBatching,
    },
    transaction: (work) => connection.transaction(work),
    events: createPostgresEventLog(connection, schema, onCommitted, handoff),
    outbox: createPostgresOutboxStore(connection, schema, () => onCommitted('outbox'), handoff),
    inbox: createPostgresInboxStore(connection, schema),
    checkpoints: createPostgresCheckpointStore(connection, schema),
    snapshots: createPostgresSnapshotStore(connection, schema),
    keys: createPostgresKeyStore(connection, schema),
    documents: createPostgresDocumentStore(connection, schema),
    deadLetters: createPostgresDeadLetterStore(connection, schema),
    sagas: createPostgresSagaStore(connection, schema),
    subscribeToChanges: (listener, options) => changes.subscribe(listener, options),
    async close() {
      await replicas.close();
      await announcer.close();
      await changes.close();
      await connection.close();
    },
  };
  const replicas = createPostgresReplicas({
    replicas: (options.replicas ?? []).map((replica) =>
      typeof replica === 'string' ? { connectionString: replica } : replica,
    ),
    schemaName,
    schema,
    poolSize,
    primary: primaryReads(store),
    primaryConnection: connection,
    sessionWaitMs,
  });
  return {
    ...store,
    read: async (readOptions, work) =>
      replicas.read(readOptions.consistency, sessionTargetOf(readOptions), work),
    // Only with replicas: it costs a round trip after each append, for the token to carry it.
    ...(options.replicas?.length ? { sessionPosition: () => replicas.sessionPosition() } : {}),
    replicaStatus: () => replicas.status(),
  };
}
