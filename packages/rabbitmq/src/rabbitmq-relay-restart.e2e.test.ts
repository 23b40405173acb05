import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createConsumer,
  createEventRegistry,
  createEventStore,
  createOutboxRelay,
  defineEvent,
  type Store,
} from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { describeWithService } from '@causeway/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createRabbitMqTransport } from './rabbitmq-transport.ts';
import { startPrivateRabbitMqNode } from './testing/private-rabbitmq-node.ts';

/**
 * The whole pipeline across a broker restart: service A appends to its event store with
 * `publishTo`, its outbox relay publishes to RabbitMQ, service B's consumer applies each event in
 * its handler's transaction. The RabbitMQ application of a private node (never the shared broker)
 * is stopped and started again mid-run; relay and consumer must recover through the transport's
 * reconnect.
 */

const prefix = `cwtest-relay-restart-${process.pid}`;
const destination = 'accounts.events';
const streams = Array.from({ length: 10 }, (_, i) => `acct-${i}`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const registry = createEventRegistry([
  defineEvent({ type: 'test.Deposited', schema: z.object({ amountCents: z.number().int().positive() }) }),
]);

interface AppliedRow {
  stream_id: string;
  count: number;
  last_position: number;
  out_of_order: number;
}

/** Service B's effect: per stream a counter, the last position seen, and how often one came out of order. */
async function createAppliedTable(store: Store): Promise<void> {
  await store.transaction((tx) =>
    tx.execute(
      'CREATE TABLE IF NOT EXISTS applied (stream_id TEXT PRIMARY KEY, count INTEGER NOT NULL, last_position INTEGER NOT NULL, out_of_order INTEGER NOT NULL)',
    ),
  );
}

async function readApplied(store: Store): Promise<AppliedRow[]> {
  return store.transaction((tx) => tx.query<AppliedRow>('SELECT * FROM applied ORDER BY stream_id'));
}

/** Appends one event at a time, round robin over the streams, until stopped; counts per stream. */
function startAppending(append: (stream: string, n: number) => Promise<unknown>) {
  const appended = new Map(streams.map((stream) => [stream, 0]));
  let running = true;
  const loop = (async () => {
    for (let round = 1; running; round++) {
      for (const stream of streams) {
        await append(stream, round);
        appended.set(stream, round);
      }
      // ~300 events a second: the broker is down for several seconds (stop_app, start_app), and
      // the backlog must still drain well within the test's time.
      await pause(30);
    }
  })();
  return {
    appended,
    total: () => [...appended.values()].reduce((sum, count) => sum + count, 0),
    async stop() {
      running = false;
      await loop;
    },
  };
}

describeWithService('rabbitmq', 'relay and consumer over RabbitMQ across a broker restart', () => {
  // A node of its own: restarting the shared broker would stall every other RabbitMQ suite.
  let broker: Awaited<ReturnType<typeof startPrivateRabbitMqNode>>;
  beforeAll(async () => {
    broker = await startPrivateRabbitMqNode();
  }, 120_000);
  afterAll(async () => {
    await broker?.shutdown();
  }, 90_000);

  async function runAcrossRestart(restart: () => Promise<void>) {
    const directory = mkdtempSync(join(tmpdir(), 'causeway-nats-relay-restart-'));
    const source = await createSqliteStore({ filename: join(directory, 'a.db') });
    const sink = await createSqliteStore({ filename: join(directory, 'b.db') });
    await createAppliedTable(sink);
    // Each service has its own connection, as two processes would. The group is declared up
    // front: RabbitMQ drops what is routed to no queue.
    const topology = { [destination]: ['b'] };
    const transportA = createRabbitMqTransport({ url: broker.url, prefix, topology });
    const transportB = createRabbitMqTransport({ url: broker.url, prefix, topology });
    const relayErrors: string[] = [];
    const relay = createOutboxRelay({
      store: source,
      transport: transportA,
      batchSize: 50,
      idlePollMs: 50,
      onError: (error) => relayErrors.push(error instanceof Error ? error.message : String(error)),
    });
    const consumer = createConsumer({
      name: 'b',
      store: sink,
      transport: transportB,
      destinations: [destination],
      registry,
      ackTimeoutMs: 2_000,
      backoff: { initialMs: 20, maxMs: 200 },
      handlers: {
        'test.Deposited': async (message, { tx }) => {
          const [row] = await tx.query<AppliedRow>('SELECT * FROM applied WHERE stream_id = $1', [
            message.streamId,
          ]);
          const inOrder = message.streamPosition === (row?.last_position ?? 0) + 1;
          await tx.execute(
            `INSERT INTO applied (stream_id, count, last_position, out_of_order) VALUES ($1, 1, $2, $3)
             ON CONFLICT (stream_id) DO UPDATE SET count = count + 1, last_position = $2, out_of_order = out_of_order + $3`,
            [message.streamId, message.streamPosition, inOrder ? 0 : 1],
          );
        },
      },
    });
    const eventStore = createEventStore({ store: source, registry });
    const appender = startAppending((stream, n) =>
      eventStore.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: n } }], {
        publishTo: destination,
      }),
    );
    try {
      await consumer.start();
      relay.start();
      // Flowing end to end before the broker goes away.
      await expect
        .poll(async () => (await readApplied(sink)).reduce((sum, row) => sum + row.count, 0), {
          timeout: 15_000,
          interval: 50,
        })
        .toBeGreaterThan(50);

      const appendedBefore = appender.total();
      await restart();
      const restartedAt = Date.now();
      await pause(1_000); // appending goes on once the broker is back
      await appender.stop();
      const appendedDuringRestart = appender.total() - appendedBefore;
      expect(appendedDuringRestart, 'events appended while the broker restarted').toBeGreaterThan(50);

      const expected = streams.map((stream) => {
        const count = appender.appended.get(stream)!;
        return [stream, count, count, 0];
      });
      const deadline = Date.now() + 40_000;
      let applied: AppliedRow[] = [];
      while (Date.now() < deadline) {
        applied = await readApplied(sink);
        const done = streams.every((stream) =>
          applied.some(
            (row) => row.stream_id === stream && row.last_position === appender.appended.get(stream),
          ),
        );
        if (done) break;
        await pause(100);
      }
      // Each stream applied exactly as often as it was appended to, in order: nothing lost, no
      // effect twice (the inbox drops what the broker redelivers after the restart).
      expect(applied.map((row) => [row.stream_id, row.count, row.last_position, row.out_of_order])).toEqual(
        expected,
      );
      await expect.poll(async () => (await relay.status()).backlog, { timeout: 5_000 }).toBe(0);
      return {
        relayErrors,
        appended: appender.total(),
        appendedDuringRestart,
        caughtUpMs: Date.now() - restartedAt,
      };
    } finally {
      await appender.stop();
      await relay.stop();
      await consumer.stop();
      await Promise.all([transportA.close(), transportB.close()]);
      await Promise.all([source.close(), sink.close()]);
      rmSync(directory, { recursive: true, force: true });
    }
  }

  it('stop_app and start_app mid-run: every event applied once, each stream in order', async () => {
    const outcome = await runAcrossRestart(async () => {
      await broker.stopApp();
      await pause(1_500); // down: the relay cannot publish, the outbox grows
      await broker.startApp();
    });
    console.info(
      `[rabbitmq relay restart] ${outcome.appended} events, ${outcome.appendedDuringRestart} while restarting, caught up ${outcome.caughtUpMs} ms after the restart, ${outcome.relayErrors.length} relay errors (first: ${outcome.relayErrors[0] ?? 'none'})`,
    );
  }, 90_000);
});
