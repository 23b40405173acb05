/**
 * Child process for the messaging crash tests. `relay` publishes service A's outbox (polling it,
 * or from the WAL when the config names a slot); `consumer`
 * applies A's events to service B's database (a counter and the last position per stream, and an
 * outbox row of its own, all in the handler's transaction). The parent SIGKILLs and restarts
 * these at random moments; besides, the real transport is wrapped so that the child SIGKILLs
 * itself at the precise points that matter, without any hook in production code:
 * - relay, after publish: the broker confirmed the batch, markPublished has not run;
 * - relay, mid-batch: only the first part of the batch was published;
 * - consumer, before ack: the handler's transaction committed, the ack was not sent (with
 *   `maxInFlight` > 1, other deliveries are in flight at that moment).
 * Before killing itself it writes `kill <kind> ...` to stdout, so the parent can count kinds.
 * Usage: messaging-child '<CrashChildConfig as JSON>'
 */
import { writeSync } from 'node:fs';
import {
  createConsumer,
  createOutboxRelay,
  type Delivery,
  newMessageId,
  type Transport,
} from '@causeway/core';
import { registry } from '../event-store-conformance/fixtures.ts';
import { loadThenAwaitGo, openCrashStore, openCrashTransport } from './crash-backends.ts';
import type { CrashChildConfig, CrashKillPlan, SelfKillKind } from './messaging-crash-config.ts';

const config = JSON.parse(process.argv[2] ?? '') as CrashChildConfig;

function report(line: string): void {
  // Synchronous: the line must reach the pipe before the process is gone.
  writeSync(1, `${line}\n`);
}

function die(kind: SelfKillKind, detail = ''): never {
  try {
    report(`kill ${kind} ${detail}`.trimEnd());
  } catch {
    // A full pipe (EAGAIN): die anyway; the parent then reports an unexplained SIGKILL.
  }
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not stop the process');
}

function warn(message: string, error?: unknown): void {
  if (message.includes('acks are not fsynced')) return; // the shared test server is not configured for it
  console.warn(`[crash ${config.role}] ${message}`, error instanceof Error ? error.message : (error ?? ''));
}

/**
 * The real transport, except that publish may kill the process after the broker confirmed the
 * batch, or after publishing only its first part.
 */
function killingPublisher(transport: Transport, kill: CrashKillPlan): Transport {
  return {
    name: transport.name,
    async publish(messages) {
      if (messages.length > 1 && Math.random() < kill.midBatch) {
        const cut = 1 + Math.floor(Math.random() * (messages.length - 1));
        await transport.publish(messages.slice(0, cut));
        die('relay-mid-batch', `published=${cut}/${messages.length}`);
      }
      await transport.publish(messages);
      if (Math.random() < kill.afterPublish) die('relay-after-publish', `published=${messages.length}`);
    },
    subscribe: (options, handler) => transport.subscribe(options, handler),
    close: () => transport.close(),
  };
}

/**
 * The real transport, except that a delivery's ack may kill the process first: the handler's
 * transaction has committed, the broker never hears of it.
 */
function killingAcker(transport: Transport, kill: CrashKillPlan): Transport {
  let inFlight = 0;
  return {
    name: transport.name,
    publish: (messages) => transport.publish(messages),
    subscribe: (options, handler) =>
      transport.subscribe(options, async (delivery) => {
        inFlight++;
        const wrapped: Delivery = {
          message: delivery.message,
          attempt: delivery.attempt,
          async ack() {
            if (Math.random() < kill.beforeAck) die('consumer-before-ack', `inFlight=${inFlight}`);
            await delivery.ack();
          },
          retry: (delayMs) => delivery.retry(delayMs),
        };
        try {
          await handler(wrapped);
        } finally {
          inFlight--;
        }
      }),
    close: () => transport.close(),
  };
}

await loadThenAwaitGo(config, report);

const store = await openCrashStore(config.store);
const transport = await openCrashTransport(config.transport, warn);

if (config.role === 'relay' && config.relay.wal) {
  if (config.store.kind !== 'postgres') throw new Error('The WAL relay needs a PostgreSQL store');
  const { createWalOutboxRelay } = await import('@causeway/postgres-cdc');
  // A killed predecessor's connection holds the slot a moment longer: this one waits as a standby.
  await createWalOutboxRelay({
    connectionString: config.store.url,
    schema: config.store.schema,
    slot: config.relay.wal.slot,
    transport: killingPublisher(transport, config.kill),
    batchSize: config.relay.batchSize,
    standbyRetryMs: 50,
    onError: (error) => warn('WAL relay', error),
  }).start();
} else if (config.role === 'relay') {
  createOutboxRelay({
    store,
    transport: killingPublisher(transport, config.kill),
    ...config.relay,
    onError: (error) => warn('relay round failed', error),
  }).start();
} else {
  await store.transaction((tx) =>
    tx.execute(
      'CREATE TABLE IF NOT EXISTS applied (stream_id TEXT PRIMARY KEY, count INTEGER NOT NULL, last_position INTEGER NOT NULL, out_of_order INTEGER NOT NULL)',
    ),
  );
  const consumer = createConsumer({
    name: config.group,
    store,
    transport: killingAcker(transport, config.kill),
    destinations: [config.destination],
    registry,
    ...config.consumer,
    backoff: { initialMs: 20, maxMs: 200 },
    onDeadLetter: ({ messageId, reason }) => warn(`dead-lettered ${messageId}: ${reason}`),
    handlers: {
      'test.Deposited': async (message, { tx, send }) => {
        const [row] = await tx.query<{ last_position: number }>(
          'SELECT last_position FROM applied WHERE stream_id = $1',
          [message.streamId],
        );
        const inOrder = message.streamPosition === (row?.last_position ?? 0) + 1;
        if (!inOrder) {
          process.stderr.write(
            `OUT OF ORDER pid ${process.pid}: ${message.streamId} position ${message.streamPosition} after ${row?.last_position ?? 0} (message ${message.id})\n`,
          );
        }
        await tx.execute(
          `INSERT INTO applied (stream_id, count, last_position, out_of_order) VALUES ($1, 1, $2, $3)
           ON CONFLICT (stream_id) DO UPDATE SET count = applied.count + 1, last_position = $2,
             out_of_order = applied.out_of_order + $3`,
          [message.streamId, message.streamPosition, inOrder ? 0 : 1],
        );
        // The handler's own outbox row: committed with the receipt, so exactly one per event.
        await send([
          {
            id: newMessageId(),
            destination: config.replyDestination,
            orderingKey: message.streamId,
            type: 'test.DepositApplied',
            payload: { eventId: message.id, streamPosition: message.streamPosition },
          },
        ]);
      },
    },
  });
  await consumer.start();
}
report('ready');
