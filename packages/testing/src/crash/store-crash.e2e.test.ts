import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore, type Store } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registry } from '../event-store-conformance/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';
import { compiledChildScript, runChild } from './compiled-child.ts';

const writerScript = compiledChildScript(new URL('./crash-writer.ts', import.meta.url));

/** Starts the writer, lets it acknowledge `acks` batches plus a random extra, then SIGKILLs it. */
function runAndKill(args: string[], acks: number): Promise<Set<string>> {
  const acknowledged = new Set<string>();
  const killAt = acks + Math.floor(Math.random() * acks);
  const { exited } = runChild(writerScript, args, (line, child) => {
    if (line.startsWith('ack ')) acknowledged.add(line.slice(4));
    if (acknowledged.size >= killAt && !child.killed) child.kill('SIGKILL');
  });
  return exited.then(({ code, signal, stderr }) => {
    if (signal !== 'SIGKILL') throw new Error(`writer exited with ${code} before it was killed: ${stderr}`);
    return acknowledged;
  });
}

/** After every kill: nothing acknowledged is lost, no append is partly visible, outbox = events. */
async function checkInvariants(store: Store, acknowledged: Set<string>) {
  const eventStore = createEventStore({ store, registry });
  const byBatch = new Map<string, number>();
  const eventIds = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const events = await eventStore.readStream(`crash-${i}`, { limit: 10_000 });
    expect(events.map((e) => e.streamPosition)).toEqual(events.map((_, index) => index + 1));
    for (const event of events) {
      const batchId = event.metadata.batchId as string;
      byBatch.set(batchId, (byBatch.get(batchId) ?? 0) + 1);
      eventIds.add(event.id);
    }
  }
  for (const batchId of acknowledged) expect(byBatch.get(batchId), `acknowledged batch ${batchId}`).toBe(3);
  for (const [batchId, count] of byBatch) expect(count, `batch ${batchId} is all or nothing`).toBe(3);
  const outbox = await store.outbox.claimBatch({
    owner: `checker-${Math.random()}`,
    limit: 10_000,
    leaseMs: 1,
  });
  expect(new Set(outbox.map((m) => m.id))).toEqual(eventIds);
  return byBatch.size;
}

function describeCrash(backend: string, location: () => { args: string[]; open: () => Promise<Store> }) {
  it(`${backend}: SIGKILL mid-stream loses no acknowledged append and shows no partial one`, async () => {
    const acknowledged = new Set<string>();
    let committed = 0;
    for (let round = 0; round < 3; round++) {
      for (const id of await runAndKill(location().args, 60)) acknowledged.add(id);
      const store = await location().open();
      try {
        committed = await checkInvariants(store, acknowledged);
      } finally {
        await store.close();
      }
    }
    expect(committed).toBeGreaterThanOrEqual(acknowledged.size);
    expect(acknowledged.size).toBeGreaterThanOrEqual(180);
  }, 120_000);
}

const directory = mkdtempSync(join(tmpdir(), 'causeway-crash-'));
describeCrash('sqlite', () => ({
  args: ['sqlite', join(directory, 'crash.db')],
  open: () => createSqliteStore({ filename: join(directory, 'crash.db') }),
}));

describeWithService('postgres', 'crash on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('crash');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeCrash('postgres', () => ({
    args: ['postgres', database.url, 'crash'],
    open: () => createPostgresStore({ connectionString: database.url, schema: 'crash' }),
  }));
});
