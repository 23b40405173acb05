import { defaultPartitions, type Store, type Transport } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createNatsTransport, deleteStreamsWithPrefix } from '@causeway/nats';
import { createPostgresStore } from '@causeway/postgres';
import { createRabbitMqTransport, deadLetterName, queueName } from '@causeway/rabbitmq';
import { createSqliteStore } from '@causeway/sqlite';

export type TransportKind = 'embedded' | 'nats' | 'rabbitmq';

/** Where a service keeps its data: a SQLite file, or a schema of a PostgreSQL database. */
export type StoreSpec =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; url: string; schema: string };

/** Everything a process of one pipeline run needs to open its side; passed to the consumer as JSON. */
export interface PipelineSpec {
  transport: TransportKind;
  /** Embedded: the log file. NATS/RabbitMQ: the server URL. */
  transportTarget: string;
  /** NATS stream prefix / RabbitMQ name prefix, unique per run. */
  prefix: string;
  destination: string;
  group: string;
  producer: StoreSpec;
  consumer: StoreSpec;
  /** Deliveries in flight in the consumer (also the PostgreSQL pool size of its store). */
  maxInFlight: number;
}

export const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
export const rabbitMqUrl = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';

export function openStore(spec: StoreSpec, poolSize: number): Promise<Store> {
  return spec.kind === 'sqlite'
    ? createSqliteStore({ filename: spec.filename })
    : createPostgresStore({ connectionString: spec.url, schema: spec.schema, poolSize });
}

export function openTransport(spec: PipelineSpec): Transport {
  switch (spec.transport) {
    case 'embedded':
      return createEmbeddedTransport({ filename: spec.transportTarget });
    case 'nats':
      return createNatsTransport({
        servers: spec.transportTarget,
        streamPrefix: spec.prefix,
        // The bench server is not set up for fsynced acks; the figure says so in its label.
        onWarning: (message) => {
          if (!message.includes('acks are not fsynced')) process.stderr.write(`[nats] ${message}\n`);
        },
      });
    case 'rabbitmq':
      return createRabbitMqTransport({
        url: spec.transportTarget,
        prefix: spec.prefix,
        topology: { [spec.destination]: [spec.group] },
      });
  }
}

/** Removes what a run left on the shared broker (streams, queues); the embedded log goes with its folder. */
export async function removeBrokerState(spec: PipelineSpec): Promise<void> {
  if (spec.transport === 'nats') await deleteStreamsWithPrefix(spec.transportTarget, spec.prefix);
  if (spec.transport === 'rabbitmq') {
    const { connect } = await import('amqplib');
    const names = { prefix: spec.prefix, partitions: defaultPartitions };
    const queues = Array.from({ length: defaultPartitions }, (_, partition) =>
      queueName(names, spec.destination, spec.group, partition),
    );
    const connection = await connect(spec.transportTarget);
    try {
      const channel = await connection.createChannel();
      for (const name of [...queues, deadLetterName(names)]) await channel.deleteQueue(name);
    } finally {
      await connection.close();
    }
  }
}
