import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventRegistry, createEventStore, defineEvent } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createPostgresStore } from '@causeway/postgres';
import { createWalOutboxRelay } from '@causeway/postgres-cdc';
import { z } from 'zod';

const connectionString = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const registry = createEventRegistry([
  defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ totalCents: z.number().int().positive() }) }),
]);
// or createNatsTransport({ servers }) / createRabbitMqTransport({ url, topology })
const transport = createEmbeddedTransport({
  filename: join(mkdtempSync(join(tmpdir(), 'causeway-')), 'bus.db'),
});
const received: string[] = [];
const subscription = await transport.subscribe(
  { group: 'billing', destinations: ['orders.events'] },
  async (delivery) => {
    received.push(`${delivery.message.type} ${delivery.message.orderingKey}`);
    await delivery.ack();
  },
);

// #region relay
const store = await createPostgresStore({ connectionString, schema: 'orders' });
const orders = createEventStore({ store, registry });
// Instead of createOutboxRelay({ store, transport }): the outbox's inserts are read from a
// replication slot (wal_level = logical), published in commit order, and acknowledged to the slot
// once the broker confirmed them. A second relay started on the same slot waits as a standby.
const relay = createWalOutboxRelay({ connectionString, schema: 'orders', transport });
await relay.start();

await orders.appendToStream('order-1', [{ type: 'orders.OrderPlaced', data: { totalCents: 4200 } }], {
  publishTo: 'orders.events',
});
// #endregion
while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
console.log(received, (await relay.status()).role); // [ 'orders.OrderPlaced order-1' ] active

// A retired relay removes its slot, or the slot would keep WAL on the server forever.
await relay.drop();
await subscription.close();
await transport.close();
await store.close();
