/**
 * Child process of the saga crash tests: one role per process, on its own store (a SQLite file or
 * a PostgreSQL schema), joined to the others by the transport the parent chose.
 * - orders: the saga orchestrator (reply consumer and durable timers) and its outbox relay;
 * - inventory, payments, shipping: a participant's command consumer and its outbox relay.
 * The parent SIGKILLs and restarts these at random moments; besides, the store, the handlers and
 * the transport are wrapped here so that a child SIGKILLs itself at the points that matter,
 * without any hook in production code:
 * - orders, mid-step / mid-compensation: a transition wrote the saga and its next command in the
 *   transaction, which has not committed yet;
 * - participant, mid-command: the handler applied its effect in the consumer's transaction,
 *   which has not committed yet;
 * - participant, before ack: that transaction committed, the ack was not sent;
 * - any relay, before publish: the batch committed, the transport never got it (on PostgreSQL
 *   mostly messages handed to the relay by their own transaction, leased to the dead relay);
 * - any relay, after publish: the transport has the batch, the outbox does not know it yet.
 * Before killing itself it writes `kill <kind> <role>` to stdout, so the parent can count kinds.
 * Usage: saga-child '<SagaChildConfig as JSON>'
 */
import { writeSync } from 'node:fs';
import {
  createConsumer,
  createOutboxRelay,
  createSagaOrchestrator,
  type Delivery,
  type SagaCommandHandler,
  type SagaInstance,
  type Store,
  sagaParticipant,
  stepFailed,
  stepSucceeded,
  type Transport,
} from '@causeway/core';
import { loadThenAwaitGo, openCrashStore, openCrashTransport } from './crash-backends.ts';
import {
  type CrashOrderData,
  crashCommands,
  crashPlaceOrder,
  type SagaChildConfig,
  type SagaSelfKillKind,
  sagaReplyDestination,
  shippingDelayMs,
} from './saga-crash-config.ts';

const config = JSON.parse(process.argv[2] ?? '') as SagaChildConfig;
const { kill, role } = config;
const occasions: Record<keyof SagaChildConfig['kill'], number> = {
  midStep: 0,
  midCompensation: 0,
  midCommand: 0,
  beforeAck: 0,
  beforePublish: 0,
  afterPublish: 0,
};

/** Counts one occasion of a kind: true when this is the one to die at. */
function dueToDie(kind: keyof SagaChildConfig['kill']): boolean {
  occasions[kind]++;
  return kill[kind] > 0 && occasions[kind] === kill[kind];
}

function report(line: string): void {
  // Synchronous: the line must reach the pipe before the process is gone.
  writeSync(1, `${line}\n`);
}

function die(kind: SagaSelfKillKind): never {
  try {
    report(`kill ${kind} ${role}`);
  } catch {
    // A full pipe: die anyway; the parent then reports an unexplained SIGKILL.
  }
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not stop the process');
}

function warn(message: string, error?: unknown): void {
  if (message.includes('acks are not fsynced')) return; // the shared test server is not configured for it
  console.warn(`[saga crash ${role}] ${message}`, error instanceof Error ? error.message : (error ?? ''));
}

/** The store, except that a saga transition may kill the process before its transaction commits. */
function killingSagaStore(store: Store): Store {
  return {
    ...store,
    sagas: {
      ...store.sagas,
      async update(tx, instance) {
        const updated: SagaInstance = await store.sagas.update(tx, instance);
        const compensating = ['compensating', 'compensated', 'dead'].includes(updated.status);
        if (compensating && dueToDie('midCompensation')) die('orchestrator-mid-compensation');
        if (!compensating && dueToDie('midStep')) die('orchestrator-mid-step');
        return updated;
      },
    },
  };
}

/** The transport, except that a relay may die after publishing, and a consumer before an ack. */
function killingTransport(transport: Transport, countAcks: boolean): Transport {
  return {
    name: transport.name,
    async publish(messages) {
      if (dueToDie('beforePublish')) die('relay-before-publish');
      await transport.publish(messages);
      if (dueToDie('afterPublish')) die('relay-after-publish');
    },
    subscribe: (options, handler) =>
      transport.subscribe(options, (delivery) => {
        const wrapped: Delivery = {
          message: delivery.message,
          attempt: delivery.attempt,
          async ack() {
            if (countAcks && dueToDie('beforeAck')) die('participant-before-ack');
            await delivery.ack();
          },
          retry: (delayMs) => delivery.retry(delayMs),
        };
        return handler(wrapped);
      }),
    close: () => transport.close(),
  };
}

/** A participant's handler that may die after its effect, before the transaction commits. */
function mayDieMidCommand(handle: SagaCommandHandler): SagaCommandHandler {
  return async (message, context) => {
    const outcome = await handle(message, context);
    if (dueToDie('midCommand')) die('participant-mid-command');
    return outcome;
  };
}

async function createTables(store: Store): Promise<void> {
  const statements: Record<string, string[]> = {
    orders: [],
    // No primary keys: a second reservation, charge or shipment of an order shows as a second row.
    inventory: [
      'CREATE TABLE IF NOT EXISTS reservations (order_id TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0)',
    ],
    payments: [
      'CREATE TABLE IF NOT EXISTS ledger (order_id TEXT NOT NULL, kind TEXT NOT NULL, amount_cents INTEGER NOT NULL)',
      'CREATE TABLE IF NOT EXISTS charge_calls (order_id TEXT PRIMARY KEY, calls INTEGER NOT NULL)',
    ],
    shipping: [
      'CREATE TABLE IF NOT EXISTS shipments (order_id TEXT NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0)',
    ],
  };
  await store.transaction(async (tx) => {
    for (const sql of statements[role] ?? []) await tx.execute(sql);
  });
}

const participantHandlers: Record<string, () => Record<string, SagaCommandHandler>> = {
  inventory: () => ({
    'inventory.Reserve': async (message, { tx }) => {
      await tx.execute('INSERT INTO reservations (order_id) VALUES ($1)', [
        (message.data as CrashOrderData).orderId,
      ]);
      return stepSucceeded();
    },
    'inventory.Release': async (message, { tx }) => {
      await tx.execute('UPDATE reservations SET released = released + 1 WHERE order_id = $1', [
        (message.data as CrashOrderData).orderId,
      ]);
      return stepSucceeded();
    },
  }),
  payments: () => ({
    'payments.Charge': async (message, { tx }) => {
      const data = message.data as CrashOrderData;
      // Counted in the transaction: a refusal commits (with its reply), a crash rolls it back.
      const [row] = await tx.query<{ calls: number }>(
        `INSERT INTO charge_calls (order_id, calls) VALUES ($1, 1)
         ON CONFLICT (order_id) DO UPDATE SET calls = charge_calls.calls + 1 RETURNING calls`,
        [data.orderId],
      );
      const calls = row!.calls;
      if (data.card === 'declined') return stepFailed('card declined');
      if (data.card === 'flaky' && calls < 3) return stepFailed(`gateway timeout (call ${calls})`);
      await tx.execute('INSERT INTO ledger VALUES ($1, $2, $3)', [data.orderId, 'charge', data.amountCents]);
      return stepSucceeded({ paymentId: `pay-${data.orderId}` });
    },
    'payments.Refund': async (message, { tx }) => {
      await tx.execute(
        `INSERT INTO ledger SELECT order_id, 'refund', amount_cents FROM ledger WHERE order_id = $1 AND kind = 'charge'`,
        [(message.data as CrashOrderData).orderId],
      );
      return stepSucceeded();
    },
  }),
  shipping: () => ({
    'shipping.Schedule': async (message, { tx }) => {
      const data = message.data as CrashOrderData;
      if (data.shipping === 'refuse') return stepFailed('shipping refused: address undeliverable');
      if (data.shipping === 'slow' || data.shipping === 'stuck') {
        // Busy: a thrown error is transient, the consumer redelivers it later (in key order).
        const age = Date.now() - Date.parse(message.occurredAt);
        if (age < shippingDelayMs[data.shipping]) throw new Error(`shipping busy (${age} ms)`);
      }
      await tx.execute('INSERT INTO shipments (order_id) VALUES ($1)', [data.orderId]);
      return stepSucceeded();
    },
    'shipping.Cancel': async (message, { tx }) => {
      await tx.execute('UPDATE shipments SET cancelled = cancelled + 1 WHERE order_id = $1', [
        (message.data as CrashOrderData).orderId,
      ]);
      return stepSucceeded();
    },
  }),
};

await loadThenAwaitGo(config, report);

const store = await openCrashStore(config.store);
const transport = await openCrashTransport(config.transport, warn);
await createTables(store);
// Consumers: a short ack timeout (also their partition lease), so that a dead one's work moves on.
const consumerOptions = { maxInFlight: 16, ackTimeoutMs: 1_000, backoff: { initialMs: 50, maxMs: 300 } };

if (role === 'orders') {
  await createSagaOrchestrator({
    store: killingSagaStore(store),
    transport: killingTransport(transport, false),
    sagas: [crashPlaceOrder],
    replyTo: sagaReplyDestination,
    timerPollMs: 50,
    consumer: consumerOptions,
    onError: (error) => warn('timer round failed', error),
  }).start();
} else {
  const handlers = participantHandlers[role]!();
  const consumer = createConsumer({
    name: role,
    store,
    transport: killingTransport(transport, true),
    destinations: [`${role}.commands`],
    ...consumerOptions,
    // A slow or stuck shipment is redelivered many times before it is handled: never dead-letter it.
    maxAttempts: 1_000,
    onDeadLetter: ({ messageId, reason }) => warn(`dead-lettered ${messageId}: ${reason}`),
    registry: crashCommands[role],
    handlers: sagaParticipant(
      store,
      crashCommands[role],
      Object.fromEntries(Object.entries(handlers).map(([type, handle]) => [type, mayDieMidCommand(handle)])),
    ),
  });
  await consumer.start();
}
createOutboxRelay({
  store,
  transport: killingTransport(transport, false),
  batchSize: 50,
  leaseMs: 500,
  idlePollMs: 20,
  onError: (error) => warn('relay round failed', error),
}).start();
report('ready');
