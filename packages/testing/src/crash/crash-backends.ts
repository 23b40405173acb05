/**
 * How a crash test's child opens the store and transport its parent chose (as JSON specs), for
 * the messaging and saga kill tests alike.
 */
import type { Store, Transport } from '@causeway/core';
import type { CrashStoreSpec, CrashTransportSpec } from './messaging-crash-config.ts';

type Warn = (message: string, error?: unknown) => void;

/**
 * Imports what openCrashStore and openCrashTransport need, so that afterwards they only connect
 * (imports are cached): a spare child loads them before it is told to go.
 */
export async function loadCrashBackends(store: CrashStoreSpec, transport: CrashTransportSpec): Promise<void> {
  await (store.kind === 'sqlite' ? import('@causeway/sqlite') : import('@causeway/postgres'));
  const transports = {
    embedded: () => import('@causeway/embedded'),
    nats: () => import('@causeway/nats'),
    rabbitmq: () => import('@causeway/rabbitmq'),
  };
  await transports[transport.kind]();
}

export async function openCrashStore(spec: CrashStoreSpec): Promise<Store> {
  if (spec.kind === 'sqlite') {
    const { createSqliteStore } = await import('@causeway/sqlite');
    return createSqliteStore({ filename: spec.filename });
  }
  const { createPostgresStore } = await import('@causeway/postgres');
  return createPostgresStore({ connectionString: spec.url, schema: spec.schema, poolSize: 4 });
}

export async function openCrashTransport(spec: CrashTransportSpec, warn: Warn): Promise<Transport> {
  const partitions = spec.partitions === undefined ? {} : { partitions: spec.partitions };
  switch (spec.kind) {
    case 'embedded': {
      const { createEmbeddedTransport } = await import('@causeway/embedded');
      return createEmbeddedTransport({
        filename: spec.filename,
        ...(spec.pollIntervalMs === undefined ? {} : { pollIntervalMs: spec.pollIntervalMs }),
        ...partitions,
      });
    }
    case 'nats': {
      const { createNatsTransport } = await import('@causeway/nats');
      return createNatsTransport({
        servers: spec.servers,
        streamPrefix: spec.streamPrefix,
        onWarning: warn,
        ...partitions,
      });
    }
    case 'rabbitmq': {
      const { createRabbitMqTransport } = await import('@causeway/rabbitmq');
      return createRabbitMqTransport({
        url: spec.url,
        prefix: spec.prefix,
        topology: spec.topology,
        ...partitions,
      });
    }
  }
}
