import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createConsumer,
  createEventStore,
  createOutboxRelay,
  type Store,
  type Transport,
} from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { expect } from 'vitest';
import { registry } from '../event-store-conformance/fixtures.ts';

const destination = 'accounts.events';
const streams = Array.from({ length: 10 }, (_, i) => `acct-${i}`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface AppliedRow {
  stream_id: string;
  count: number;
  last_position: number;
  out_of_order: number;
}

const readApplied = (store: Store) =>
  store.transaction((tx) => tx.query<AppliedRow>('SELECT * FROM applied ORDER BY stream_id'));

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
      // ~300 events a second: the broker may be down for seconds and the backlog must still
      // drain well within the test's time.
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

/**
 * The whole pipeline across a broker restart: service A appends with `publishTo`, its relay
 * publishes, service B's consumer applies each event in its handler's transaction (a counter and
 * the last position per stream). `restart` takes the broker down and up mid-run while appends go
 * on; relay and consumer must recover through the transport's reconnect. Afterwards each stream
 * was applied exactly as often as it was appended to, in order, and the outbox is empty.
 * `openTransport` is called once per service (each has its own connection, as two processes would).
 */
export async function runPipelineAcrossRestart(options: {
  openTransport: () => Transport;
  restart: () => Promise<void>;
}) {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-broker-restart-'));
  const source = await createSqliteStore({ filename: join(directory, 'a.db') });
  const sink = await createSqliteStore({ filename: join(directory, 'b.db') });
  await sink.transaction((tx) =>
    tx.execute(
      'CREATE TABLE applied (stream_id TEXT PRIMARY KEY, count INTEGER NOT NULL, last_position INTEGER NOT NULL, out_of_order INTEGER NOT NULL)',
    ),
  );
  const [transportA, transportB] = [options.openTransport(), options.openTransport()];
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
    await options.restart();
    const restartedAt = Date.now();
    await pause(1_000); // appending goes on once the broker is back
    await appender.stop();
    const appendedDuringRestart = appender.total() - appendedBefore;
    expect(appendedDuringRestart, 'events appended while the broker restarted').toBeGreaterThan(50);
    const relayErrorsDuringRestart = relayErrors.length;

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
      relayErrorsDuringRestart,
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
