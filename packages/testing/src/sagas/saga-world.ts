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
  type SagaInstance,
  type SagaStatus,
  type Store,
  sagaParticipant,
  step,
  stepFailed,
  stepSucceeded,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

export interface OrderData {
  orderId: string;
  amountCents: number;
  /** How the payment participant behaves: ok, declined, or flaky (fails twice, then succeeds). */
  card: 'ok' | 'declined' | 'flaky' | 'stolen';
  paymentId?: string;
}

const orderSchema = z.object({
  orderId: z.string().min(1),
  amountCents: z.number().int().positive(),
  card: z.enum(['ok', 'declined', 'flaky', 'stolen']),
});

const orderRef = z.object({ orderId: z.string().min(1) });
const reserve = defineCommand({ type: 'inventory.Reserve', schema: orderRef });
const release = defineCommand({ type: 'inventory.Release', schema: orderRef });
const charge = defineCommand({ type: 'payments.Charge', schema: orderSchema });
const refund = defineCommand({ type: 'payments.Refund', schema: orderRef });
const schedule = defineCommand({ type: 'shipping.Schedule', schema: orderRef });
/** The participants' commands: each consumer validates what it receives against these. */
export const inventoryCommands = createEventRegistry([reserve, release]);
export const paymentsCommands = createEventRegistry([charge, refund]);
export const shippingCommands = createEventRegistry([schedule]);

/** Reserves the order's stock; releases it when compensated. */
export const reserveInventory = <Data extends OrderData>() =>
  step<Data>('reserveInventory', {
    invoke: (data) => command('inventory.commands', reserve, { orderId: data.orderId }),
    compensate: (data) => command('inventory.commands', release, { orderId: data.orderId }),
  });

/** Charges the card (retried: a flaky card fails twice); refunds when compensated. */
export const processPayment = <Data extends OrderData>() =>
  step<Data>('processPayment', {
    invoke: (data) =>
      command('payments.commands', charge, {
        orderId: data.orderId,
        amountCents: data.amountCents,
        card: data.card,
      }),
    compensate: (data) => command('payments.commands', refund, { orderId: data.orderId }),
    onSuccess: (data, result) => ({ ...data, paymentId: (result as { paymentId: string }).paymentId }),
    retry: { maxAttempts: 3, initialMs: 20, maxMs: 50 },
  });

/** Reserve → charge → ship; the shipping step times out when nobody answers it. */
export const placeOrder = defineSaga<OrderData>(
  'PlaceOrder',
  [
    reserveInventory(),
    processPayment(),
    step('shipOrder', {
      invoke: (data) => command('shipping.commands', schedule, { orderId: data.orderId }),
      timeoutMs: 1_500,
    }),
  ],
  {
    schema: orderSchema as z.ZodType<OrderData>,
    compensationRetry: { maxAttempts: 2, initialMs: 20, maxMs: 50 },
  },
);

async function table(store: Store, sql: string) {
  await store.transaction((tx) => tx.execute(sql));
}

/**
 * An orchestrating service and three participants, each with its own SQLite file, joined by the
 * embedded transport. `shipping` answers only when `shippingOnline` is true.
 */
export async function createSagaWorld() {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-sagas-'));
  const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db'), pollIntervalMs: 5 });
  const open = (name: string) => createSqliteStore({ filename: join(directory, `${name}.db`) });
  const [orders, inventory, payments, shipping] = await Promise.all(
    ['orders', 'inventory', 'payments', 'shipping'].map(open),
  );
  await table(
    inventory!,
    'CREATE TABLE reservations (order_id TEXT PRIMARY KEY, released INTEGER NOT NULL DEFAULT 0)',
  );
  await table(
    payments!,
    'CREATE TABLE ledger (order_id TEXT NOT NULL, kind TEXT NOT NULL, amount_cents INTEGER NOT NULL)',
  );
  await table(shipping!, 'CREATE TABLE shipments (order_id TEXT PRIMARY KEY)');

  const controls = { releaseBroken: false, shippingOnline: true, chargeCalls: new Map<string, number>() };
  const orchestrator = createSagaOrchestrator({
    store: orders!,
    transport,
    sagas: [placeOrder],
    replyTo: 'orders.saga-replies',
    timerPollMs: 20,
  });
  const backoff = { initialMs: 10, maxMs: 50 };
  const consumers = [
    createConsumer({
      name: 'inventory',
      store: inventory!,
      transport,
      destinations: ['inventory.commands'],
      backoff,
      registry: inventoryCommands,
      handlers: sagaParticipant(inventory!, inventoryCommands, {
        'inventory.Reserve': async (message, { tx }) => {
          await tx.execute('INSERT INTO reservations (order_id) VALUES ($1)', [message.data.orderId]);
          return stepSucceeded();
        },
        'inventory.Release': async (message, { tx }) => {
          if (controls.releaseBroken) return stepFailed('inventory database is read-only');
          await tx.execute('UPDATE reservations SET released = released + 1 WHERE order_id = $1', [
            message.data.orderId,
          ]);
          return stepSucceeded();
        },
      }),
    }),
    createConsumer({
      name: 'payments',
      store: payments!,
      transport,
      destinations: ['payments.commands'],
      backoff,
      registry: paymentsCommands,
      handlers: sagaParticipant(payments!, paymentsCommands, {
        'payments.Charge': async (message, { tx }) => {
          const { data } = message;
          const calls = (controls.chargeCalls.get(data.orderId) ?? 0) + 1;
          controls.chargeCalls.set(data.orderId, calls);
          if (data.card === 'declined') return stepFailed('card declined');
          if (data.card === 'stolen') return stepFailed('card reported stolen', { retryable: false });
          if (data.card === 'flaky' && calls < 3) return stepFailed(`gateway timeout (call ${calls})`);
          await tx.execute('INSERT INTO ledger VALUES ($1, $2, $3)', [
            data.orderId,
            'charge',
            data.amountCents,
          ]);
          return stepSucceeded({ paymentId: `pay-${data.orderId}` });
        },
        'payments.Refund': async (message, { tx }) => {
          const { orderId } = message.data;
          await tx.execute(
            `INSERT INTO ledger SELECT order_id, 'refund', amount_cents FROM ledger WHERE order_id = $1 AND kind = 'charge'`,
            [orderId],
          );
          return stepSucceeded();
        },
      }),
    }),
  ];
  const shippingConsumer = createConsumer({
    name: 'shipping',
    store: shipping!,
    transport,
    destinations: ['shipping.commands'],
    backoff,
    registry: shippingCommands,
    handlers: sagaParticipant(shipping!, shippingCommands, {
      'shipping.Schedule': async (message, { tx }) => {
        await tx.execute('INSERT INTO shipments VALUES ($1)', [message.data.orderId]);
        return stepSucceeded();
      },
    }),
  });
  const relays = [orders, inventory, payments, shipping].map((store) =>
    createOutboxRelay({ store: store!, transport, idlePollMs: 20 }),
  );

  await orchestrator.start();
  for (const consumer of consumers) await consumer.start();
  if (controls.shippingOnline) await shippingConsumer.start();
  for (const relay of relays) relay.start();

  async function waitForStatus(sagaId: string, statuses: readonly SagaStatus[], timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    let instance: SagaInstance | null = null;
    while (Date.now() < deadline) {
      instance = await orchestrator.get(sagaId);
      if (instance && statuses.includes(instance.status)) return instance;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(
      `saga ${sagaId} did not reach ${statuses.join(' or ')} in ${timeoutMs} ms: ${JSON.stringify(instance)}`,
    );
  }

  const query = <Row>(store: Store, sql: string, params: unknown[] = []) =>
    store.transaction((tx) => tx.query<Row>(sql, params));

  return {
    orchestrator,
    controls,
    stores: { orders: orders!, inventory: inventory!, payments: payments!, shipping: shipping! },
    waitForStatus,
    /** Stops answering shipping commands (they stay queued for when it comes back). */
    async takeShippingOffline() {
      controls.shippingOnline = false;
      await shippingConsumer.stop();
    },
    reservations: (orderId: string) =>
      query<{ released: number }>(inventory!, 'SELECT released FROM reservations WHERE order_id = $1', [
        orderId,
      ]),
    ledger: (orderId: string) =>
      query<{ kind: string; amount_cents: number }>(
        payments!,
        'SELECT kind, amount_cents FROM ledger WHERE order_id = $1 ORDER BY kind',
        [orderId],
      ),
    shipments: (orderId: string) =>
      query<{ order_id: string }>(shipping!, 'SELECT order_id FROM shipments WHERE order_id = $1', [orderId]),
    async close() {
      for (const relay of relays) await relay.stop();
      for (const consumer of [...consumers, shippingConsumer]) await consumer.stop();
      await orchestrator.stop();
      await transport.close();
      for (const store of [orders, inventory, payments, shipping]) await store!.close();
    },
  };
}
