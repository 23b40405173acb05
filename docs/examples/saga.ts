import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  command,
  createConsumer,
  createEventRegistry,
  createOutboxRelay,
  createSagaOrchestrator,
  defineCommand,
  defineSaga,
  sagaParticipant,
  step,
  stepFailed,
  stepSucceeded,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

interface Order {
  orderId: string;
  amountCents: number;
}

// #region saga
// Commands are defined like events: a type and a schema, which types the step and the participant.
const reserve = defineCommand({ type: 'inventory.Reserve', schema: z.object({ orderId: z.string() }) });
const release = defineCommand({ type: 'inventory.Release', schema: z.object({ orderId: z.string() }) });
const charge = defineCommand({
  type: 'payments.Charge',
  schema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
});
// The saga: typed data, a schema for its start, each step with its compensation and policies.
const placeOrder = defineSaga<Order>(
  'PlaceOrder',
  [
    step('reserveInventory', {
      invoke: (order) => command('inventory.commands', reserve, { orderId: order.orderId }),
      compensate: (order) => command('inventory.commands', release, { orderId: order.orderId }),
      timeoutMs: 10_000,
    }),
    step('processPayment', {
      invoke: (order) => command('payments.commands', charge, order),
      retry: { maxAttempts: 3, initialMs: 100 },
      timeoutMs: 10_000,
    }),
  ],
  { schema: z.object({ orderId: z.string().min(1), amountCents: z.number().int().positive() }) },
);
// #endregion

const dataDir = mkdtempSync(join(tmpdir(), 'causeway-saga-example-'));
const transport = createEmbeddedTransport({ filename: join(dataDir, 'transport.db') });
const [orders, inventory, payments] = await Promise.all(
  ['orders', 'inventory', 'payments'].map((name) =>
    createSqliteStore({ filename: join(dataDir, `${name}.db`) }),
  ),
);

// #region participants
const inventoryCommands = createEventRegistry([reserve, release]);
const paymentsCommands = createEventRegistry([charge]);
// Participants apply each step once per idempotency key and reply through their outbox.
const participants = [
  createConsumer({
    name: 'inventory',
    store: inventory!,
    transport,
    destinations: ['inventory.commands'],
    registry: inventoryCommands,
    handlers: sagaParticipant(inventory!, inventoryCommands, {
      'inventory.Reserve': async () => stepSucceeded(),
      'inventory.Release': async () => stepSucceeded(),
    }),
  }),
  createConsumer({
    name: 'payments',
    store: payments!,
    transport,
    destinations: ['payments.commands'],
    registry: paymentsCommands,
    handlers: sagaParticipant(payments!, paymentsCommands, {
      'payments.Charge': async ({ data }) =>
        data.amountCents > 100_000
          ? stepFailed('amount over the card limit', { retryable: false })
          : stepSucceeded(),
    }),
  }),
];
// #endregion
const relays = [orders, inventory, payments].map((store) => createOutboxRelay({ store: store!, transport }));
const orchestrator = createSagaOrchestrator({
  store: orders!,
  transport,
  sagas: [placeOrder],
  replyTo: 'orders.saga-replies',
});

for (const consumer of participants) await consumer.start();
for (const relay of relays) relay.start();
await orchestrator.start();

const { sagaId } = await orchestrator.startSaga(placeOrder, { orderId: 'o-1', amountCents: 250_000 });
let saga = await orchestrator.get(sagaId);
while (saga?.status === 'running' || saga?.status === 'compensating') {
  await new Promise((resolve) => setTimeout(resolve, 20));
  saga = await orchestrator.get(sagaId);
}
console.log(
  saga?.status,
  saga?.steps.map((each) => `${each.name}: ${each.status}`),
); // compensated [ 'reserveInventory: compensated', 'processPayment: failed' ]

await orchestrator.stop();
for (const relay of relays) await relay.stop();
for (const consumer of participants) await consumer.stop();
await transport.close();
for (const store of [orders, inventory, payments]) await store!.close();
