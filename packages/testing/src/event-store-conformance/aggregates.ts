import { ConcurrencyError, createCommandHandler, createEventStore, type Store } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import {
  type Account,
  type AccountCommand,
  type AccountEvent,
  accountDecider,
  registry,
  uniqueId,
} from './fixtures.ts';

export function describeAggregates(getStore: () => Store) {
  const setup = (snapshotEvery = 3) => {
    const eventStore = createEventStore({ store: getStore(), registry });
    const snapshot = { aggregateType: 'account', every: snapshotEvery, version: 1 };
    return {
      eventStore,
      accounts: createCommandHandler<Account, AccountCommand, AccountEvent>({
        eventStore,
        decider: accountDecider,
        snapshot,
        maxRetries: 100,
      }),
    };
  };

  describe('deciders, snapshots and temporal reads', () => {
    it('retries on conflict so concurrent commands all land', async () => {
      const { accounts } = setup(1000);
      const stream = uniqueId('acct');
      await accounts.handle(stream, { kind: 'open', holder: 'Ada' });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          accounts.handle(stream, { kind: 'deposit', amountCents: i + 1 }),
        ),
      );
      const { state, version } = await accounts.load(stream);
      expect(state.balanceCents).toBe(210);
      expect(version).toBe(21);
    });

    it('refuses with a ConcurrencyError when the caller pins a stale version', async () => {
      const { accounts } = setup();
      const stream = uniqueId('acct');
      await accounts.handle(stream, { kind: 'open', holder: 'Ada' });
      const error = await accounts
        .handle(stream, { kind: 'deposit', amountCents: 5 }, { expectedVersion: 0 })
        .catch((e) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error.message).toMatch(/is at version 1, expected 0/);
    });

    it('takes a snapshot every N events and loads from it', async () => {
      const { accounts, eventStore } = setup(3);
      const stream = uniqueId('acct');
      const taken: boolean[] = [];
      taken.push((await accounts.handle(stream, { kind: 'open', holder: 'Ada' })).snapshotTaken);
      for (let i = 0; i < 6; i++)
        taken.push((await accounts.handle(stream, { kind: 'deposit', amountCents: 10 })).snapshotTaken);
      expect(taken).toEqual([false, false, true, false, false, true, false]);
      const loaded = await accounts.load(stream);
      expect(loaded).toMatchObject({ version: 7, fromSnapshot: 6, state: { balanceCents: 60 } });
      expect((await eventStore.store.snapshots.load(null, stream))?.streamVersion).toBe(6);
    });

    it('ignores a snapshot taken by another evolve version instead of trusting it', async () => {
      const { accounts, eventStore } = setup(2);
      const stream = uniqueId('acct');
      await accounts.handle(stream, { kind: 'open', holder: 'Ada' });
      await accounts.handle(stream, { kind: 'deposit', amountCents: 10 });
      // A snapshot with a wrong state written by an older evolve (version 0) must not be used.
      await eventStore.store.snapshots.save(null, {
        streamId: stream,
        aggregateType: 'account',
        streamVersion: 5,
        snapshotVersion: 0,
        subjectId: null,
        state: { open: true, holder: 'X', balanceCents: 999_999 },
        takenAt: new Date().toISOString(),
      });
      const loaded = await accounts.load(stream);
      expect(loaded).toMatchObject({ fromSnapshot: null, version: 2, state: { balanceCents: 10 } });
    });

    it('reads state as of a version and as of a time', async () => {
      const { eventStore, accounts } = setup(1000);
      const stream = uniqueId('acct');
      await eventStore.appendToStream(stream, [
        {
          type: 'test.AccountOpened',
          data: { holder: 'Ada', currency: 'USD' },
          occurredAt: '2026-01-01T00:00:00.000Z',
        },
        { type: 'test.Deposited', data: { amountCents: 100 }, occurredAt: '2026-01-02T00:00:00.000Z' },
        { type: 'test.Deposited', data: { amountCents: 50 }, occurredAt: '2026-01-03T00:00:00.000Z' },
      ]);
      expect((await accounts.load(stream, { version: 2 })).state.balanceCents).toBe(100);
      expect((await accounts.load(stream, { time: '2026-01-02T12:00:00.000Z' })).state.balanceCents).toBe(
        100,
      );
      expect((await accounts.load(stream, { time: '2025-12-31T00:00:00.000Z' })).version).toBe(0);
      expect((await accounts.load(stream)).state.balanceCents).toBe(150);
    });
  });
}
