import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testWarning, uniqueStreamPrefix } from './nats-test-streams.ts';
import { createNatsTransport } from './nats-transport.ts';
import { findNatsServerBinary, PrivateNatsServer } from './private-nats-server.ts';

/**
 * The whole pipeline across a broker restart: service A appends to its event store with
 * `publishTo`, its outbox relay publishes to NATS, service B's consumer applies each event in its
 * handler's transaction. nats-server is killed (or stopped) and started again mid-run, on the same
 * port and store directory; relay and consumer must recover through the transport's reconnect.
 */

const binary = findNatsServerBinary();
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
      await pause(10);
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

/** The pid of the private server, found by its store directory (unique to it): for a graceful SIGTERM. */
function serverPid(server: PrivateNatsServer): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let commandLine: string[];
    try {
      commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (commandLine.includes(server.storeDirectory) && commandLine.includes(String(server.port))) {
      return Number(entry);
    }
  }
  throw new Error(`no nats-server process serves ${server.storeDirectory}`);
}

async function waitUntilPortClosed(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port });
      const finish = (open: boolean) => {
        socket.destroy();
        resolve(open);
      };
      socket.once('connect', () => finish(true));
      socket.once('error', () => finish(false));
    });
    if (!listening) return;
    if (Date.now() > deadline) throw new Error(`nats-server still listens on ${port} after ${timeoutMs} ms`);
    await pause(50);
  }
}

if (!binary) {
  const message =
    'nats-server binary not found (set NATS_SERVER_BIN): the relay restart test needs its own server';
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing service is a failure)`);
  console.warn(`\n${'='.repeat(100)}\nSKIPPED: NATS relay restart: ${message}\n${'='.repeat(100)}\n`);
}

describe.skipIf(!binary)('relay and consumer over NATS across a broker restart', () => {
  let server: PrivateNatsServer;
  beforeAll(async () => {
    server = await PrivateNatsServer.start(binary!);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function runAcrossRestart(restart: () => Promise<void>) {
    const directory = mkdtempSync(join(tmpdir(), 'causeway-nats-relay-restart-'));
    const source = await createSqliteStore({ filename: join(directory, 'a.db') });
    const sink = await createSqliteStore({ filename: join(directory, 'b.db') });
    await createAppliedTable(sink);
    const streamPrefix = uniqueStreamPrefix();
    // Each service has its own connection, as two processes would.
    const transportA = createNatsTransport({ servers: server.url, streamPrefix, onWarning: testWarning });
    const transportB = createNatsTransport({ servers: server.url, streamPrefix, onWarning: () => {} });
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
      // A publish in flight at the drop, or issued while disconnected, fails at the latest when the
      // connection is re-established (nats-connection-events.ts), not after the request timeout.
      expect(relayErrors.length, 'the relay saw publishes fail while the broker was away').toBeGreaterThan(0);

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

  it('SIGKILL of nats-server mid-run: every event applied once, each stream in order', async () => {
    const outcome = await runAcrossRestart(async () => {
      await server.kill();
      await pause(1_500); // down: the relay cannot publish, the outbox grows
      await server.start();
    });
    console.info(
      `[nats relay restart] SIGKILL: ${outcome.appended} events, ${outcome.appendedDuringRestart} while restarting, caught up ${outcome.caughtUpMs} ms after the restart, ${outcome.relayErrors.length} relay errors (first: ${outcome.relayErrors[0] ?? 'none'})`,
    );
  }, 60_000);

  it('graceful stop (SIGTERM) and start of nats-server mid-run: every event applied once, in order', async () => {
    const outcome = await runAcrossRestart(async () => {
      process.kill(serverPid(server), 'SIGTERM');
      await waitUntilPortClosed(server.port);
      await pause(1_500);
      await server.start();
    });
    console.info(
      `[nats relay restart] SIGTERM: ${outcome.appended} events, ${outcome.appendedDuringRestart} while restarting, caught up ${outcome.caughtUpMs} ms after the restart, ${outcome.relayErrors.length} relay errors (first: ${outcome.relayErrors[0] ?? 'none'})`,
    );
  }, 60_000);
});
