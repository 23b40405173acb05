/**
 * `npm run demo`: the bank-account demo on embedded SQLite (no services needed; POSTGRES_URL
 * switches it to PostgreSQL). It opens an account with its holder's name encrypted, shows a
 * snapshot being taken, the balance now and as of an earlier time, a projection catching up with
 * its lag and read after its own write, and a rebuild of that projection. Run again on the same
 * DATA_DIR, it opens another account in the same store, and the projection resumes from its
 * checkpoint.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createCommandHandler,
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
} from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { Presets, SingleBar } from 'cli-progress';
import {
  type Account,
  type BankCommand,
  type BankEvent,
  balancesProjection,
  bankAccount,
  bankRegistry,
} from './bank-account.ts';

const dataDir = resolve(process.env.DATA_DIR ?? '.data');
mkdirSync(dataDir, { recursive: true });
const filename = join(dataDir, 'demo-bank.db');
const euros = (cents: number) => `${(cents / 100).toFixed(2)} EUR`;
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

// POSTGRES_URL switches the same demo to PostgreSQL (schema `demo_bank`); nothing else changes.
const postgresUrl = process.env.POSTGRES_URL;
const store = postgresUrl
  ? await createPostgresStore({ connectionString: postgresUrl, schema: 'demo_bank' })
  : await createSqliteStore({ filename });
const eventStore = createEventStore({ store, registry: bankRegistry });
const accounts = createCommandHandler<Account, BankCommand, BankEvent>({
  eventStore,
  decider: bankAccount,
  snapshot: { aggregateType: 'bank-account', every: 5, version: 1, subject: (_state, streamId) => streamId },
});
console.log(
  `Causeway demo: bank accounts on ${postgresUrl ? `PostgreSQL at ${new URL(postgresUrl).host} (schema demo_bank)` : `SQLite at ${filename}`}\n`,
);

const accountId = `account-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
await accounts.handle(accountId, { kind: 'open', accountId, holder: 'Ada Lovelace', currency: 'EUR' });
console.log(`Opened ${accountId} for Ada Lovelace (her name is stored encrypted with a per-account key)`);
let before = '';
const movements: BankCommand[] = [
  { kind: 'deposit', amountCents: 10_000 },
  { kind: 'withdraw', amountCents: 2_500 },
  { kind: 'deposit', amountCents: 4_000 },
  { kind: 'withdraw', amountCents: 1_200 },
  { kind: 'deposit', amountCents: 700 },
  { kind: 'withdraw', amountCents: 3_000 },
];
for (const [index, command] of movements.entries()) {
  const result = await accounts.handle(accountId, command);
  console.log(
    `  ${command.kind.padEnd(8)} ${euros((command as { amountCents: number }).amountCents).padStart(12)}  → balance ${euros(result.state.balanceCents)} (version ${result.nextExpectedVersion})${result.snapshotTaken ? '  📸 snapshot taken' : ''}`,
  );
  if (index === 2) {
    await pause(20);
    before = new Date().toISOString();
    await pause(20);
  }
}

const now = await accounts.load(accountId);
console.log(
  `\nBalance now: ${euros(now.state.balanceCents)} at version ${now.version} (loaded from the snapshot at version ${now.fromSnapshot} + ${now.version - (now.fromSnapshot ?? 0)} later event(s))`,
);
const then = await accounts.load(accountId, { time: before });
console.log(
  `Balance as of ${before}: ${euros(then.state.balanceCents)} (version ${then.version}, replayed from the log)`,
);

const runner = createProjectionRunner({
  eventStore,
  projections: [balancesProjection],
  batchSize: 2,
  idlePollMs: 50,
});
// Before start(), status() reports the saved checkpoint: where an earlier run stopped.
const { head, position } = await runner.status(balancesProjection.name);
console.log(
  `\nThe log's head is at position ${head}; projection ${balancesProjection.name} has applied up to ${position}; starting it…`,
);
await runner.start();
// One more movement while the projection runs: its consistency token is what a read waits for.
const last = await accounts.handle(accountId, { kind: 'deposit', amountCents: 100 });
console.log(
  `  deposit  ${euros(100).padStart(12)}  → balance ${euros(last.state.balanceCents)} (version ${last.nextExpectedVersion}), while the projection runs`,
);
for (;;) {
  const lag = await runner.status(balancesProjection.name);
  console.log(
    `  applied up to ${lag.position} of ${lag.head}: ${lag.positionsBehind} behind, ${lag.secondsBehind.toFixed(2)} s behind`,
  );
  if (lag.positionsBehind === 0) break;
  await pause(25);
}
await runner.waitFor(balancesProjection.name, last.consistencyToken!, { timeoutMs: 5000 });
const lag0 = await runner.status(balancesProjection.name);
const readModel = await createReadModelReader(store, balancesProjection).get<{
  balanceCents: number;
  movements: number;
}>('balances', accountId);
console.log(
  `Read model for ${accountId}: ${euros(readModel!.balanceCents)} after ${readModel!.movements} movements (read-your-writes via the consistency token)`,
);

// Rebuild: replay the whole log into a fresh generation while the old one stays readable.
const bar = new SingleBar(
  { format: '  rebuild {bar} {value}/{total} events', hideCursor: true },
  Presets.shades_classic,
);
bar.start(lag0.head, 0);
const rebuilt = await runner.rebuild(balancesProjection.name, {
  onProgress: ({ processed, head }) => {
    bar.setTotal(Math.max(head, 1));
    bar.update(processed);
  },
});
bar.stop();
console.log(
  `Rebuilt ${balancesProjection.name} into generation ${rebuilt.generation} from ${rebuilt.events} events, then swapped it in`,
);
await runner.stop();
await store.close();
