/**
 * Opens a service's store and the shared transport from the shop's config: SQLite and the
 * embedded log under DATA_DIR by default, PostgreSQL / NATS / RabbitMQ when configured. The
 * drivers of the optional backends are imported only when chosen.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, Transport } from '@causeway/core';
import { postgresUrlFor, type ShopConfig } from '../config.ts';

export async function openServiceStore(config: ShopConfig, service: string): Promise<Store> {
  if (config.postgresUrl) {
    const { createPostgresStore } = await import('@causeway/postgres');
    const url = postgresUrlFor(config, service);
    await ensurePostgresDatabase(url);
    const replicas = config.postgresReplicaUrl ? [postgresUrlFor(config, service, 'replica')] : [];
    return createPostgresStore({ connectionString: url, schema: 'shop', replicas });
  }
  mkdirSync(config.dataDir, { recursive: true });
  const { createSqliteStore } = await import('@causeway/sqlite');
  return createSqliteStore({ filename: storeFileOf(config, service) });
}

export const storeFileOf = (config: ShopConfig, service: string) => join(config.dataDir, `${service}.db`);

/** Creates the service's database on first start (one database per service). */
async function ensurePostgresDatabase(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`)
        .catch((error: { code?: string }) => {
          if (error.code !== '42P04') throw error; // another process created it first
        });
    }
  } finally {
    await client.end();
  }
}

/**
 * How long a delivery may stay unacknowledged before it is redelivered, for every consumer of the
 * shop. The transports' default (30 s) is also how long a service's messages wait after it was
 * killed and restarted: the embedded log's partition leases and NATS's ack wait of the dead
 * process run out only then. With saga steps due in 30 s (5–10 s for a payment), every order in
 * flight at a crash was cancelled. The handlers take milliseconds; one that takes longer is
 * delivered again and its inbox drops the duplicate.
 */
export const shopAckTimeoutMs = 5_000;

export async function openShopTransport(config: ShopConfig): Promise<Transport> {
  return withAckTimeout(await openTransport(config), shopAckTimeoutMs);
}

/** The transport, with `ackTimeoutMs` for every subscription that does not set its own. */
function withAckTimeout(transport: Transport, ackTimeoutMs: number): Transport {
  return {
    name: transport.name,
    publish: (messages) => transport.publish(messages),
    subscribe: (options, handler) =>
      transport.subscribe({ ...options, ackTimeoutMs: options.ackTimeoutMs ?? ackTimeoutMs }, handler),
    close: () => transport.close(),
    // What the broker holds for this process's groups: /metrics reads it.
    ...(transport.consumerLag ? { consumerLag: () => transport.consumerLag!() } : {}),
  };
}

async function openTransport(config: ShopConfig): Promise<Transport> {
  switch (config.transport) {
    case 'nats': {
      const { createNatsTransport } = await import('@causeway/nats');
      return createNatsTransport({ servers: config.natsUrl, streamPrefix: config.streamPrefix });
    }
    case 'rabbitmq': {
      const { createRabbitMqTransport } = await import('@causeway/rabbitmq');
      return createRabbitMqTransport({
        url: config.rabbitmqUrl,
        prefix: config.streamPrefix,
        topology: shopTopology,
      });
    }
    default: {
      mkdirSync(config.dataDir, { recursive: true });
      const { createEmbeddedTransport } = await import('@causeway/embedded');
      return createEmbeddedTransport({ filename: join(config.dataDir, 'transport.db') });
    }
  }
}

/** Destination → consumer groups (RabbitMQ declares the queues before the first publish). */
export const shopTopology: Record<string, string[]> = {
  'catalog.events': ['orders', 'query', 'gateway'],
  'users.events': ['query', 'orders'],
  'inventory.events': ['orders'],
  'orders.events': ['query', 'inventory'],
  'orders.commands': ['orders'],
  'inventory.commands': ['inventory'],
  'payments.commands': ['payments'],
  'shipping.commands': ['shipping'],
  'orders.saga-replies': ['orders.saga-replies-orchestrator'],
};
