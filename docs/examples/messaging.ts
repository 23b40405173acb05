import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createConsumer,
  createEventRegistry,
  createEventStore,
  createOutboxRelay,
  defineEvent,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

const registry = createEventRegistry([
  defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ totalCents: z.number().int().positive() }) }),
]);
const dataDir = mkdtempSync(join(tmpdir(), 'causeway-example-')); // DATA_DIR in a real service
// or createNatsTransport({ servers }) / createRabbitMqTransport({ url, topology })
const transport = createEmbeddedTransport({ filename: join(dataDir, 'transport.db') });

// #region services
// Service A: the event and its outbox row commit together; the relay publishes them.
const ordersStore = await createSqliteStore({ filename: join(dataDir, 'orders.db') });
const orders = createEventStore({ store: ordersStore, registry });
const relay = createOutboxRelay({ store: ordersStore, transport });
relay.start();

// Service B: inbox receipt + handler effects (+ its own outbox rows) in one transaction, then ack.
const billingStore = await createSqliteStore({ filename: join(dataDir, 'billing.db') });
await billingStore.transaction((tx) =>
  tx.execute('CREATE TABLE invoices (order_id TEXT PRIMARY KEY, cents INTEGER)'),
);
const billing = createConsumer({
  name: 'billing',
  store: billingStore,
  transport,
  destinations: ['orders.events'],
  registry, // a handled type with invalid data goes to the dead-letter store with the reason
  handlers: {
    'orders.OrderPlaced': async (message, { tx }) => {
      const { totalCents } = message.data;
      await tx.execute('INSERT INTO invoices VALUES ($1, $2)', [message.streamId, totalCents]);
    },
  },
});
await billing.start();

await orders.appendToStream('order-1', [{ type: 'orders.OrderPlaced', data: { totalCents: 4200 } }], {
  publishTo: 'orders.events',
});
// #endregion
let invoices: unknown[] = [];
while (invoices.length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  invoices = await billingStore.transaction((tx) => tx.query('SELECT * FROM invoices'));
}
console.log(invoices); // [ { order_id: 'order-1', cents: 4200 } ]
await billing.stop();
await relay.stop();
await transport.close();
await Promise.all([ordersStore.close(), billingStore.close()]);
