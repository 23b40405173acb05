import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
  type EventStore,
  mergeConsistencyTokens,
  type Store,
} from '@causeway/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registry } from '../event-store-conformance/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';
import { compiledChildScript, runChild } from './compiled-child.ts';
import { openCrashStore } from './crash-backends.ts';
import type { CrashStoreSpec } from './messaging-crash-config.ts';
import { ledgerProjection, ledgerStreams } from './projection-crash-fixture.ts';

const childScript = compiledChildScript(new URL('./projection-child.ts', import.meta.url));

/**
 * Runs the projection child until it printed `lines` lines starting with `prefix` (or exits), then
 * SIGKILLs it after a random 0-10 ms, while it still has batches to apply: inside a batch's
 * transaction or between two. Answers what it printed.
 */
async function runAndKill(args: string[], prefix: string, lines: number): Promise<string[]> {
  const printed: string[] = [];
  let seen = 0;
  let killing = false;
  const { child, exited } = runChild(childScript, args, (line, running) => {
    printed.push(line);
    if (line.startsWith(prefix)) seen++;
    if ((seen >= lines || line === 'rebuilt') && !killing) {
      killing = true;
      setTimeout(() => running.kill('SIGKILL'), Math.floor(Math.random() * 10));
    }
  });
  // Nothing more to print (caught up): it is killed idle, which must be safe too.
  const idleKill = setTimeout(() => child.kill('SIGKILL'), 8_000);
  const { code, signal, stderr } = await exited;
  clearTimeout(idleKill);
  if (signal !== 'SIGKILL')
    throw new Error(`projection child exited with ${code} before it was killed: ${stderr}`);
  return printed;
}

/** Deposits spread over the ledger's accounts; answers one token for all of them. */
async function deposit(eventStore: EventStore, count: number): Promise<string> {
  const tokens: string[] = [];
  for (let index = 0; index < count; index += 4) {
    const stream = ledgerStreams[Math.floor(Math.random() * ledgerStreams.length)]!;
    const outcome = await eventStore.appendToStream(
      stream,
      [1, 2, 3, 4].map((n) => ({ type: 'test.Deposited', data: { amountCents: n * 10 + index } })),
    );
    tokens.push(outcome.consistencyToken);
  }
  return mergeConsistencyTokens(tokens);
}

/** The ledger's content: rows of the applied table (sorted) and the accounts' documents. */
async function readLedger(store: Store) {
  const rows = await store.transaction((tx) =>
    tx.query<{ event_id: string; stream_id: string; amount_cents: number | string }>(
      'SELECT event_id, stream_id, amount_cents FROM applied ORDER BY event_id',
    ),
  );
  const reader = createReadModelReader(store, ledgerProjection);
  const accounts: Record<string, unknown> = {};
  for (const stream of ledgerStreams) accounts[stream] = await reader.get('accounts', stream);
  return { rows: rows.map((row) => ({ ...row, amount_cents: Number(row.amount_cents) })), accounts };
}

function describeProjectionCrash(backend: string, storeSpec: () => CrashStoreSpec) {
  it(`${backend}: SIGKILL while applying and mid-rebuild: the read model equals a fresh rebuild, no event twice or skipped`, async () => {
    const store = await openCrashStore(storeSpec());
    try {
      const eventStore = createEventStore({ store, registry });
      let token = await deposit(eventStore, 800);
      let rebuildsKilled = 0;
      for (let round = 0; round < 8; round++) {
        const rebuilding = round % 3 === 2;
        const printed = await runAndKill(
          [JSON.stringify(storeSpec()), rebuilding ? 'rebuild' : 'live'],
          rebuilding ? 'rebuild ' : 'applied ',
          rebuilding ? 1 : 1 + Math.floor(Math.random() * 10),
        );
        if (rebuilding && !printed.includes('rebuilt')) rebuildsKilled++;
        // Writes go on between the kills, as they would while the projection's process restarts.
        token = mergeConsistencyTokens([token, await deposit(eventStore, 400)]);
      }
      expect(rebuildsKilled).toBeGreaterThan(0);

      // A process that lives: it finishes the rebuild cut short, then catches up.
      const runner = createProjectionRunner({ eventStore, projections: [ledgerProjection], idlePollMs: 20 });
      await runner.start();
      await runner.waitFor(ledgerProjection.name, token, { timeoutMs: 60_000 });
      for (let waited = 0; (await runner.status('ledger')).state === 'rebuilding' && waited < 600; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await runner.status('ledger')).state).toBe('live');
      await runner.waitFor(ledgerProjection.name, token, { timeoutMs: 60_000 });

      const all = await eventStore.readAll({ position: 0 }, { limit: 10_000 });
      const deposits = all.events.filter((event) => event.type === 'test.Deposited');
      const survived = await readLedger(store);
      // Every event once: no row twice, none missing.
      expect(survived.rows.map((row) => row.event_id)).toEqual(deposits.map((event) => event.id).sort());
      for (const stream of ledgerStreams) {
        const own = deposits.filter((event) => event.streamId === stream);
        const balance = own.reduce(
          (sum, event) => sum + (event.data as { amountCents: number }).amountCents,
          0,
        );
        expect(survived.accounts[stream] ?? null).toEqual(
          own.length === 0 ? null : { balanceCents: balance, deposits: own.length },
        );
      }
      // And what survived the kills is what a rebuild from the log gives.
      const generation = (await runner.status('ledger')).generation;
      await runner.rebuild(ledgerProjection.name);
      expect((await runner.status('ledger')).generation).toBe(generation + 1);
      expect(await readLedger(store)).toEqual(survived);
      await runner.stop();
    } finally {
      await store.close();
    }
  }, 240_000);
}

const directory = mkdtempSync(join(tmpdir(), 'causeway-projection-crash-'));
describeProjectionCrash('sqlite', () => ({ kind: 'sqlite', filename: join(directory, 'ledger.db') }));

describeWithService('postgres', 'projection crash on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('projection_crash');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeProjectionCrash('postgres', () => ({ kind: 'postgres', url: database.url, schema: 'ledger' }));
});
