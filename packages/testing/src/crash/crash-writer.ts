/**
 * Child process for crash tests: appends 3-event batches (with outbox rows) to a few streams,
 * 8 appends in flight, and prints `ack <batchId>` only after an append resolved (committed).
 * The parent kills it with SIGKILL at a random moment.
 * Usage: crash-writer <sqlite|postgres> <filename|url> [schema]
 */
import { writeSync } from 'node:fs';
import { createEventStore, newMessageId, type Store } from '@causeway/core';
import { registry } from '../event-store-conformance/fixtures.ts';

const [backend, location, schema] = process.argv.slice(2);

async function openStore(): Promise<Store> {
  if (backend === 'sqlite')
    return (await import('@causeway/sqlite')).createSqliteStore({ filename: location! });
  return (await import('@causeway/postgres')).createPostgresStore({
    connectionString: location!,
    schema: schema!,
  });
}

const store = await openStore();
const eventStore = createEventStore({ store, registry });
const streams = Array.from({ length: 12 }, (_, i) => `crash-${i}`);

async function writer(slot: number): Promise<never> {
  for (let i = 0; ; i++) {
    const batchId = newMessageId();
    const stream = streams[(slot + i) % streams.length]!;
    await eventStore.appendToStream(
      stream,
      [1, 2, 3].map((n) => ({ type: 'test.Deposited', data: { amountCents: n }, metadata: { batchId } })),
      { publishTo: 'crash' },
    );
    // A synchronous write: the ack reaches the pipe before the next append starts.
    writeSync(1, `ack ${batchId}\n`);
  }
}

writeSync(1, 'ready\n');
await Promise.all(Array.from({ length: 8 }, (_, slot) => writer(slot)));
