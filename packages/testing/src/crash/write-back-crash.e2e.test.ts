/**
 * Write-back under SIGKILL: a child adds to counters through a write-back and is killed at random
 * moments, again and again. After each kill a new process recovers the journal; in the end every
 * counter holds at least the writes that were acknowledged (none lost) and at most those that were
 * sent (none applied twice, though a flush and a crash may race).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';
import { compiledChildScript, runChild } from './compiled-child.ts';
import { createCounters, createCounterTable, readCounts } from './write-back-counters.ts';

const childScript = compiledChildScript(new URL('./write-back-child.ts', import.meta.url));

interface Tally {
  sent: Map<string, number>;
  acked: Map<string, number>;
}

const add = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/** Runs the child until it acknowledged `acks` writes plus a random extra, then SIGKILLs it. */
function runAndKill(args: string[], acks: number, tally: Tally): Promise<void> {
  const killAt = acks + Math.floor(Math.random() * acks);
  let acknowledged = 0;
  const { exited } = runChild(childScript, args, (line, child) => {
    if (line.startsWith('sent ')) add(tally.sent, line.slice(5));
    if (line.startsWith('ack ')) {
      add(tally.acked, line.slice(4));
      acknowledged += 1;
    }
    if (acknowledged >= killAt && !child.killed) child.kill('SIGKILL');
  });
  return exited.then(({ code, signal, stderr }) => {
    if (signal !== 'SIGKILL') {
      throw new Error(`the write-back child exited with ${code} before it was killed: ${stderr}`);
    }
  });
}

function describeKill(backend: string, location: () => { args: string[]; open: () => Promise<Store> }) {
  it(`${backend}: SIGKILL at random moments loses no acknowledged write and applies none twice`, async () => {
    const tally: Tally = { sent: new Map(), acked: new Map() };
    for (let round = 0; round < 4; round++) await runAndKill(location().args, 150, tally);

    // What a restarted process does: read the journal back and flush it.
    const store = await location().open();
    try {
      await createCounterTable(store);
      const counters = createCounters(store);
      await counters.start();
      await counters.close();
      const counts = await readCounts(store);
      let acknowledged = 0;
      for (const [key, sent] of tally.sent) {
        const acked = tally.acked.get(key) ?? 0;
        acknowledged += acked;
        expect(counts.get(key) ?? 0, `${key}: acknowledged writes are all there`).toBeGreaterThanOrEqual(
          acked,
        );
        expect(counts.get(key) ?? 0, `${key}: no write applied twice`).toBeLessThanOrEqual(sent);
      }
      expect(acknowledged).toBeGreaterThanOrEqual(4 * 150);
      expect([...counts.keys()].every((key) => tally.sent.has(key))).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
}

const directory = mkdtempSync(join(tmpdir(), 'causeway-write-back-'));
describeKill('sqlite', () => ({
  args: ['sqlite', join(directory, 'write-back.db')],
  open: () => createSqliteStore({ filename: join(directory, 'write-back.db') }),
}));

describeWithService('postgres', 'write-back on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('write_back');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeKill('postgres', () => ({
    args: ['postgres', database.url, 'write_back'],
    open: () => createPostgresStore({ connectionString: database.url, schema: 'write_back' }),
  }));
});
