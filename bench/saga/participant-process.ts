/**
 * One participant of the saga bench in its own process (as in production): a consumer of its
 * commands with sagaParticipant handlers (one row written per step, in the consumer's
 * transaction, with the reply through the outbox) and the relay that publishes the replies.
 * Usage: forked by saga-run.ts with the SagaBenchSpec as JSON in argv[2] and the role in argv[3].
 */
import {
  createConsumer,
  createOutboxRelay,
  type Store,
  sagaParticipant,
  stepSucceeded,
  type Transport,
} from '@causeway/core';
import { openStore } from '../transport/setup.ts';
import {
  destinations,
  inventoryCommands,
  openSagaTransport,
  type ParticipantRole,
  paymentsCommands,
  type SagaBenchSpec,
} from './saga-spec.ts';

export type ParticipantReport = { kind: 'ready' };
/** Parent → child: stop and exit. */
export type ParticipantCommand = { kind: 'stop' };

const spec = JSON.parse(process.argv[2]!) as SagaBenchSpec;
const role = process.argv[3] as ParticipantRole;
const send = (report: ParticipantReport) => process.send?.(report);

function consumerOptions(store: Store, transport: Transport) {
  return {
    name: role,
    store,
    transport,
    destinations: [destinations[role]],
    maxInFlight: spec.maxInFlight,
    onDeadLetter: ({ messageId, reason }: { messageId: string; reason: string }) =>
      onError(`dead letter ${messageId}: ${reason}`),
  };
}

async function createTables(store: Store) {
  const ddl =
    role === 'inventory'
      ? [
          'CREATE TABLE IF NOT EXISTS reservations (order_id TEXT PRIMARY KEY, released INTEGER NOT NULL DEFAULT 0)',
          'CREATE TABLE IF NOT EXISTS confirmations (order_id TEXT PRIMARY KEY)',
        ]
      : [
          'CREATE TABLE IF NOT EXISTS charges (order_id TEXT PRIMARY KEY, amount_cents INTEGER NOT NULL, refunded INTEGER NOT NULL DEFAULT 0)',
        ];
  await store.transaction(async (tx) => {
    for (const sql of ddl) await tx.execute(sql);
  });
}

function inventoryConsumer(store: Store, transport: Transport) {
  return createConsumer({
    ...consumerOptions(store, transport),
    registry: inventoryCommands,
    handlers: sagaParticipant(store, inventoryCommands, {
      'inventory.Reserve': async (message, { tx }) => {
        await tx.execute('INSERT INTO reservations (order_id) VALUES ($1)', [message.data.orderId]);
        return stepSucceeded();
      },
      'inventory.Release': async (message, { tx }) => {
        await tx.execute('UPDATE reservations SET released = 1 WHERE order_id = $1', [message.data.orderId]);
        return stepSucceeded();
      },
      'inventory.Confirm': async (message, { tx }) => {
        await tx.execute('INSERT INTO confirmations (order_id) VALUES ($1)', [message.data.orderId]);
        return stepSucceeded();
      },
    }),
  });
}

function paymentsConsumer(store: Store, transport: Transport) {
  return createConsumer({
    ...consumerOptions(store, transport),
    registry: paymentsCommands,
    handlers: sagaParticipant(store, paymentsCommands, {
      'payments.Charge': async (message, { tx }) => {
        const { data } = message;
        await tx.execute('INSERT INTO charges (order_id, amount_cents) VALUES ($1, $2)', [
          data.orderId,
          data.amountCents,
        ]);
        return stepSucceeded({ paymentId: `pay-${data.orderId}` });
      },
      'payments.Refund': async (message, { tx }) => {
        await tx.execute('UPDATE charges SET refunded = 1 WHERE order_id = $1', [message.data.orderId]);
        return stepSucceeded();
      },
    }),
  });
}

const store = await openStore(spec[role], spec.maxInFlight + 2);
await createTables(store);
const transport = openSagaTransport(spec);
const onError = (error: unknown) => process.stderr.write(`[${role}] ${String(error)}\n`);
const consumer =
  role === 'inventory' ? inventoryConsumer(store, transport) : paymentsConsumer(store, transport);
const relay = createOutboxRelay({ store, transport, onError });
await consumer.start();
relay.start();
send({ kind: 'ready' });

process.on('message', async (message: ParticipantCommand) => {
  if (message.kind !== 'stop') return;
  await consumer.stop();
  await relay.stop();
  await transport.close();
  await store.close();
  process.exit(0);
});
