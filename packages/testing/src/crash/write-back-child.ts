/**
 * Child process for the write-back kill test: 16 writers add 1 to one of 20 counters, over and
 * over, through a write-back flushing every 20 ms. Each prints `sent <key>` before its write and
 * `ack <key>` once the write resolved (durable). The parent kills it with SIGKILL at a random moment.
 * Usage: write-back-child <sqlite|postgres> <filename|url> [schema]
 */
import { writeSync } from 'node:fs';
import type { Store } from '@causeway/core';
import { createCounters, createCounterTable } from './write-back-counters.ts';

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
await createCounterTable(store);
const counters = createCounters(store, { flushEveryMs: 20, maxBatch: 8 });
await counters.start();

async function writer(slot: number): Promise<never> {
  for (let i = 0; ; i++) {
    const key = `counter-${(slot * 7 + i) % 20}`;
    writeSync(1, `sent ${key}\n`);
    await counters.write(key, 1);
    writeSync(1, `ack ${key}\n`);
  }
}

writeSync(1, 'ready\n');
await Promise.all(Array.from({ length: 16 }, (_, slot) => writer(slot)));
