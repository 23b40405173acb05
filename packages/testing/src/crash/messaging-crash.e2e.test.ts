import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEventStore } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { expect, it } from 'vitest';
import { registry } from '../event-store-conformance/fixtures.ts';

const childScript = fileURLToPath(new URL('./messaging-child.ts', import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A child that can be SIGKILLed and restarted; `node --import tsx` so the kill hits it, not a wrapper. */
function supervise(args: string[]) {
  let child: ChildProcess | null = null;
  let kills = 0;
  const start = () => {
    child = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  };
  start();
  return {
    killAndRestart() {
      child?.kill('SIGKILL');
      kills++;
      start();
    },
    stop() {
      child?.kill('SIGKILL');
    },
    get kills() {
      return kills;
    },
  };
}

it('SIGKILL of relay and consumer at random moments: nothing lost, every effect once, each stream in order', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-messaging-crash-'));
  const [storeA, storeB, transportFile] = [
    join(directory, 'a.db'),
    join(directory, 'b.db'),
    join(directory, 'transport.db'),
  ];
  const destination = 'a_events';
  const source = await createSqliteStore({ filename: storeA });
  const eventStore = createEventStore({ store: source, registry });
  const relay = supervise(['relay', storeA, transportFile, destination]);
  const consumer = supervise(['consumer', storeB, transportFile, destination]);
  const streams = Array.from({ length: 10 }, (_, i) => `acct-${i}`);
  const perStream = 30;

  const killer = (async () => {
    for (let round = 0; round < 12; round++) {
      await pause(150 + Math.random() * 350);
      (Math.random() < 0.5 ? relay : consumer).killAndRestart();
    }
  })();
  for (let n = 1; n <= perStream; n++) {
    for (const stream of streams) {
      await eventStore.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: n } }], {
        publishTo: destination,
      });
    }
    await pause(10);
  }
  await killer;

  const sink = await createSqliteStore({ filename: storeB });
  try {
    const deadline = Date.now() + 60_000;
    let applied: Array<{ stream_id: string; count: number; last_position: number; out_of_order: number }> =
      [];
    while (Date.now() < deadline) {
      applied = await sink
        .transaction((tx) => tx.query<(typeof applied)[number]>('SELECT * FROM applied ORDER BY stream_id'))
        .catch(() => []);
      if (applied.length === streams.length && applied.every((row) => row.last_position === perStream)) break;
      await pause(200);
    }
    expect(relay.kills + consumer.kills).toBe(12);
    expect(applied.map((row) => [row.stream_id, row.count, row.last_position, row.out_of_order])).toEqual(
      streams.sort().map((stream) => [stream, perStream, perStream, 0]),
    );
  } finally {
    relay.stop();
    consumer.stop();
    await sink.close();
    await source.close();
  }
}, 120_000);
