import * as cw from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

// #region decider
const opened = cw.defineEvent({
  type: 'bank.AccountOpened',
  schema: z.object({ accountId: z.string(), holder: z.string() }),
  personal: { subject: (data) => data.accountId, fields: ['holder'] }, // encrypted under the subject's key
});
const deposited = cw.defineEvent({
  type: 'bank.Deposited',
  schema: z.object({ amountCents: z.int().positive() }),
});
type Event =
  | cw.DomainEvent<'bank.AccountOpened', z.infer<typeof opened.schema>>
  | cw.DomainEvent<'bank.Deposited', { amountCents: number }>;
type Command = { kind: 'open'; accountId: string; holder: string } | { kind: 'deposit'; amountCents: number };

// Business rules as a pure decider: no I/O, tested with deciderSpec(account).given(...).when(...).then(...).
const account: cw.Decider<{ holder: string | null; balanceCents: number }, Command, Event> = {
  initialState: () => ({ holder: null, balanceCents: 0 }),
  decide: (command, state) => {
    if (command.kind === 'open') {
      return { type: 'bank.AccountOpened', data: { accountId: command.accountId, holder: command.holder } };
    }
    if (state.holder === null) throw new Error('Open the account first');
    return { type: 'bank.Deposited', data: { amountCents: command.amountCents } };
  },
  evolve: (state, event) =>
    event.type === 'bank.AccountOpened'
      ? { ...state, holder: event.data.holder }
      : { ...state, balanceCents: state.balanceCents + event.data.amountCents },
};
const store = await createSqliteStore({ filename: ':memory:' }); // or a file, or createPostgresStore
const eventStore = cw.createEventStore({ store, registry: cw.createEventRegistry([opened, deposited]) });
// Loads (from the latest snapshot), decides, appends; retries by itself on a concurrent write.
const accounts = cw.createCommandHandler({
  eventStore,
  decider: account,
  snapshot: { aggregateType: 'account', every: 2, version: 1, subject: (_state, streamId) => streamId },
});
// #endregion

// #region history
await accounts.handle('acct-1', { kind: 'open', accountId: 'acct-1', holder: 'Ada Lovelace' });
for (const amountCents of [500, 700]) await accounts.handle('acct-1', { kind: 'deposit', amountCents });
const now = await accounts.load('acct-1'); // the snapshot at version 2, then the event after it
const then = await accounts.load('acct-1', { version: 2 }); // or { time: '2026-01-02T00:00:00Z' }
await eventStore.forgetSubject('acct-1'); // destroys the key: the holder can no longer be read anywhere
const forgotten = await accounts.load('acct-1');
console.log(now.state, then.state.balanceCents, forgotten.state.holder);
// { holder: 'Ada Lovelace', balanceCents: 1200 } 500 [forgotten]
// #endregion

// #region errors
const deposit = (amountCents: number, expectedVersion: number) =>
  eventStore.appendToStream('acct-1', [{ type: 'bank.Deposited', data: { amountCents } }], {
    expectedVersion,
  });
for (const attempt of [() => deposit(100, 1), () => deposit(-5, 3)]) {
  await attempt().catch((error: cw.CausewayError) => console.log(error.code, '-', error.message));
}
// CONCURRENCY_CONFLICT - Stream acct-1 is at version 3, expected 1: reload and retry the command
// VALIDATION_FAILED - Invalid bank.Deposited: amountCents Too small: expected number to be >0
// #endregion
await store.close();
