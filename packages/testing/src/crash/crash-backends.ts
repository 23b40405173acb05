/**
 * How a crash test's child opens the store and transport its parent chose (as JSON specs), for
 * the messaging and saga kill tests alike.
 */
import { createInterface } from 'node:readline';
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

/**
 * A child's start: imports its backends, reports `loaded`, then waits. The parent keeps a spare
 * child ready and says `go` when it is needed. A closed stdin means the parent is gone: so is the
 * child, never outliving the test.
 */
export async function loadThenAwaitGo(
  config: { store: CrashStoreSpec; transport: CrashTransportSpec },
  report: (line: string) => void,
): Promise<void> {
  await loadCrashBackends(config.store, config.transport);
  report('loaded');
  await new Promise<void>((resolve) => {
    createInterface({ input: process.stdin }).on('line', (line) => {
      if (line === 'go') resolve();
    });
    process.stdin.on('end', () => process.exit(0));
  });
}
