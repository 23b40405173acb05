import {
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
  defineProjection,
  registerInlineProjection,
  type Store,
  WaitTimeoutError,
} from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { balancesProjection, registry, uniqueId } from './fixtures.ts';

async function seedAccounts(eventStore: ReturnType<typeof createEventStore>, count: number) {
  const streams = Array.from({ length: count }, () => uniqueId('acct'));
  let last = '';
  for (const stream of streams) {
    const outcome = await eventStore.appendToStream(stream, [
      { type: 'test.AccountOpened', data: { holder: `holder of ${stream}`, currency: 'USD' } },
      { type: 'test.Deposited', data: { amountCents: 100 } },
      { type: 'test.Deposited', data: { amountCents: 25 } },
    ]);
    last = outcome.consistencyToken;
  }
  return { streams, last };
}

/** Readers query the view named after the table; it points at the live generation. */
async function countDeposits(store: Store): Promise<number> {
  const rows = await store.transaction((tx) =>
    tx.query<{ total: number | string }>('SELECT COUNT(*) AS total FROM deposits'),
  );
  return Number(rows[0]?.total);
}

/** `openStore` must give a fresh, empty store for each call. */
export function describeProjections(openStore: () => Promise<Store>) {
  const withStore = (test: (store: Store) => Promise<void>) => async () => {
    const store = await openStore();
    try {
      await test(store);
    } finally {
      await store.close();
    }
  };

  describe('projections', () => {
    it(
      'applies events in batches, saves the checkpoint with the read model, reports lag',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        const { streams, last } = await seedAccounts(eventStore, 30);
        const runner = createProjectionRunner({
          eventStore,
          projections: [balancesProjection],
          batchSize: 7,
          idlePollMs: 20,
        });
        const before = await runner.status('balances');
        expect(before.positionsBehind).toBeGreaterThanOrEqual(90);
        await runner.start();
        await runner.waitFor('balances', last, { timeoutMs: 10_000 });
        const balances = createReadModelReader(store, balancesProjection);
        for (const stream of streams)
          expect(await balances.get('accounts', stream)).toEqual({
            holder: `holder of ${stream}`,
            balanceCents: 125,
          });
        expect(await countDeposits(store)).toBe(60);
        const status = await runner.status('balances');
        expect(status).toMatchObject({ positionsBehind: 0, secondsBehind: 0 });
        expect((await store.checkpoints.load(null, 'balances'))?.position).toBe(status.position);
        await runner.stop();

        // A runner that has not started yet reports the saved checkpoint, not position 0.
        const next = createProjectionRunner({ eventStore, projections: [balancesProjection] });
        expect(await next.status('balances')).toMatchObject({
          position: status.position,
          generation: status.generation,
          positionsBehind: 0,
        });
      }),
    );

    it(
      'rolls back the read model and the checkpoint together when a handler fails',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        let failOn = '';
        const fragile = defineProjection({
          name: 'fragile',
          collections: ['seen'],
          handlers: {
            'test.Deposited': async (event, { documents }) => {
              await documents.put('seen', event.id, { at: event.globalPosition });
              if (event.streamId === failOn) throw new Error('handler failed');
            },
          },
        });
        const runner = createProjectionRunner({
          eventStore,
          projections: [fragile],
          batchSize: 100,
          idlePollMs: 10,
        });
        failOn = uniqueId('poison');
        await eventStore.appendToStream(uniqueId('ok'), [
          { type: 'test.Deposited', data: { amountCents: 1 } },
        ]);
        const poison = await eventStore.appendToStream(failOn, [
          { type: 'test.Deposited', data: { amountCents: 1 } },
        ]);
        await runner.start();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const status = await runner.status('fragile');
        expect(status.lastError).toBe('handler failed');
        expect(status.position).toBe(0);
        expect(await createReadModelReader(store, fragile).count('seen')).toBe(0);
        failOn = 'nothing';
        await runner.waitFor('fragile', poison.consistencyToken, { timeoutMs: 10_000 });
        expect(await createReadModelReader(store, fragile).count('seen')).toBe(2);
        await runner.stop();
      }),
    );

    /** A projection whose handler fails on one stream while `failOn` names it. */
    function poisonSetup(store: Store, policy: 'skip' | 'halt') {
      const eventStore = createEventStore({ store, registry });
      const failing = { stream: uniqueId('poison') };
      const projection = defineProjection({
        name: `poisoned_${policy}`,
        collections: ['seen'],
        handlers: {
          'test.Deposited': async (event, { documents }) => {
            await documents.put('seen', event.id, { at: event.globalPosition });
            if (event.streamId === failing.stream) throw new Error('handler failed');
          },
        },
      });
      const runner = createProjectionRunner({
        eventStore,
        projections: [projection],
        poison: { maxAttempts: 2, policy },
        idlePollMs: 10,
      });
      const deposit = (streamId: string) =>
        eventStore.appendToStream(streamId, [{ type: 'test.Deposited', data: { amountCents: 1 } }]);
      const seen = () => createReadModelReader(store, projection).count('seen');
      const deadLetters = () => store.deadLetters.list({ consumer: `projection:${projection.name}` });
      return { runner, failing, deposit, seen, deadLetters, name: projection.name };
    }

    it(
      'skips an event its handler keeps failing on, dead-letters it with the position, and redrives it once fixed',
      withStore(async (store) => {
        const { runner, failing, deposit, seen, deadLetters, name } = poisonSetup(store, 'skip');
        await deposit(uniqueId('ok'));
        const poison = await deposit(failing.stream);
        const after = await deposit(uniqueId('ok'));
        await runner.start();
        await runner.waitFor(name, after.consistencyToken, { timeoutMs: 10_000 });
        expect(await seen()).toBe(2);
        const [dead] = await deadLetters();
        expect(dead).toMatchObject({
          messageId: poison.events[0]!.id,
          orderingKey: failing.stream,
          status: 'dead',
          attempts: 2,
        });
        expect(dead!.reason).toContain('handler failed');
        expect(dead!.reason).toContain(`position ${poison.positions[0]!.globalPosition}`);

        failing.stream = 'nothing';
        expect(await runner.redrive(dead!.sequence)).toEqual({ redriven: 1 });
        expect(await seen()).toBe(3);
        expect((await store.deadLetters.get(null, dead!.sequence))?.status).toBe('redriven');
        await runner.stop();
      }),
    );

    it(
      'halts before an event its handler keeps failing on, and goes on once it is redriven',
      withStore(async (store) => {
        const { runner, failing, deposit, seen, deadLetters, name } = poisonSetup(store, 'halt');
        await deposit(uniqueId('ok'));
        const poison = await deposit(failing.stream);
        const after = await deposit(uniqueId('ok'));
        await runner.start();
        const deadline = Date.now() + 10_000;
        while ((await runner.status(name)).state !== 'halted' && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        const status = await runner.status(name);
        expect(status).toMatchObject({
          state: 'halted',
          halted: { eventId: poison.events[0]!.id, position: poison.positions[0]!.globalPosition },
        });
        expect(await seen()).toBe(1);
        const error = await runner.waitFor(name, after.consistencyToken, { timeoutMs: 100 }).catch((e) => e);
        expect(error).toBeInstanceOf(WaitTimeoutError);

        const [dead] = await deadLetters();
        const again = await runner.redrive(dead!.sequence);
        expect(again.redriven).toBe(0);
        expect(again.failed?.attempts).toBe(3);
        expect((await runner.status(name)).state).toBe('halted');

        failing.stream = 'nothing';
        expect(await runner.redrive(dead!.sequence)).toEqual({ redriven: 1 });
        await runner.waitFor(name, after.consistencyToken, { timeoutMs: 10_000 });
        expect(await seen()).toBe(3);
        expect((await runner.status(name)).state).toBe('live');
        await runner.stop();
      }),
    );

    it(
      'keeps the old generation live when a rebuild fails, and does not start that rebuild again by itself',
      withStore(async (store) => {
        const { runner, failing, deposit, seen, name } = poisonSetup(store, 'skip');
        const stream = uniqueId('ok');
        const token = (await deposit(stream)).consistencyToken;
        failing.stream = 'nothing';
        await runner.start();
        await runner.waitFor(name, token, { timeoutMs: 10_000 });
        failing.stream = stream; // the handler now throws on replay
        await expect(runner.rebuild(name)).rejects.toThrow('handler failed');
        expect(await runner.status(name)).toMatchObject({
          state: 'live',
          generation: 1,
          rebuild: { status: 'failed' },
        });
        expect(await seen()).toBe(1);
        await runner.stop();
        const restarted = poisonSetup(store, 'skip').runner;
        await restarted.start();
        expect(await restarted.status(name)).toMatchObject({ state: 'live', generation: 1, rebuild: null });
        await restarted.stop();
      }),
    );

    it(
      'buffers writes per batch: reads see them, direct SQL writes them out first',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        const seen: number[] = [];
        const buffered = defineProjection({
          name: 'buffered',
          collections: ['totals'],
          tables: {
            movements: (name) => `CREATE TABLE ${name} (event_id TEXT PRIMARY KEY, amount INTEGER NOT NULL)`,
          },
          handlers: {
            'test.Deposited': async (event, { documents, insert, tx, table }) => {
              const amount = (event.data as { amountCents: number }).amountCents;
              const total = (await documents.get<{ cents: number }>('totals', 'all'))?.cents ?? 0;
              await documents.put('totals', 'all', { cents: total + amount });
              await insert('movements', { event_id: event.id, amount });
              const rows = await tx.query<{ n: number | string }>(
                `SELECT COUNT(*) AS n FROM ${table('movements')}`,
              );
              seen.push(Number(rows[0]?.n));
            },
          },
        });
        const stream = uniqueId('acct');
        const outcome = await eventStore.appendToStream(
          stream,
          [1, 2, 3, 4].map((n) => ({ type: 'test.Deposited', data: { amountCents: n } })),
        );
        const runner = createProjectionRunner({
          eventStore,
          projections: [buffered],
          batchSize: 100,
          idlePollMs: 10,
        });
        await runner.start();
        await runner.waitFor('buffered', outcome.consistencyToken, { timeoutMs: 10_000 });
        await runner.stop();
        expect(seen).toEqual([1, 2, 3, 4]);
        expect(await createReadModelReader(store, buffered).get('totals', 'all')).toEqual({ cents: 10 });
      }),
    );

    it(
      'fails waitFor with a typed timeout when the projection cannot catch up',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        const runner = createProjectionRunner({ eventStore, projections: [balancesProjection] });
        const { last } = await seedAccounts(eventStore, 1);
        const error = await runner.waitFor('balances', last, { timeoutMs: 50 }).catch((e) => e);
        expect(error).toBeInstanceOf(WaitTimeoutError);
        expect(error.message).toMatch(/has not applied stream/);
      }),
    );

    it(
      'rebuilds into a fresh generation while the old one stays readable, then swaps',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        const { streams, last } = await seedAccounts(eventStore, 40);
        const runner = createProjectionRunner({
          eventStore,
          projections: [balancesProjection],
          idlePollMs: 20,
        });
        await runner.start();
        await runner.waitFor('balances', last, { timeoutMs: 10_000 });
        const balances = createReadModelReader(store, balancesProjection);
        const progress: number[] = [];
        let readDuringRebuild: unknown = null;
        const rebuilt = await runner.rebuild('balances', {
          onProgress: async (p) => {
            progress.push(p.processed);
            readDuringRebuild ??= await balances.get('accounts', streams[0]!);
          },
        });
        expect(rebuilt).toMatchObject({ events: 120, generation: 2 });
        expect(progress.at(-1)).toBe(120);
        expect(readDuringRebuild).toEqual({ holder: `holder of ${streams[0]}`, balanceCents: 125 });
        expect((await store.checkpoints.load(null, 'balances'))?.generation).toBe(2);
        for (const stream of streams)
          expect(await balances.get('accounts', stream)).toEqual({
            holder: `holder of ${stream}`,
            balanceCents: 125,
          });
        expect(await countDeposits(store)).toBe(80);
        // The live loop continues on the new generation.
        const next = await eventStore.appendToStream(streams[0]!, [
          { type: 'test.Deposited', data: { amountCents: 1 } },
        ]);
        await runner.waitFor('balances', next.consistencyToken, { timeoutMs: 10_000 });
        expect(await balances.get('accounts', streams[0]!)).toMatchObject({ balanceCents: 126 });
        await runner.stop();
      }),
    );

    it(
      'applies inline projections in the append transaction, and a failing one refuses the append',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        await registerInlineProjection(eventStore, balancesProjection);
        const stream = uniqueId('acct');
        await eventStore.appendToStream(stream, [
          { type: 'test.AccountOpened', data: { holder: 'Ada', currency: 'USD' } },
        ]);
        expect(await createReadModelReader(store, balancesProjection).get('accounts', stream)).toEqual({
          holder: 'Ada',
          balanceCents: 0,
        });
        const failing = defineProjection({
          name: 'failing',
          handlers: {
            'test.Withdrawn': () => {
              throw new Error('read model refused');
            },
          },
        });
        await registerInlineProjection(eventStore, failing);
        await expect(
          eventStore.appendToStream(stream, [{ type: 'test.Withdrawn', data: { amountCents: 1 } }]),
        ).rejects.toThrow('read model refused');
        expect(await store.events.streamVersion(null, stream)).toBe(1);
      }),
    );

    it(
      'writes published events to the outbox in the append transaction, personal data still sealed',
      withStore(async (store) => {
        const eventStore = createEventStore({ store, registry });
        const userId = uniqueId('user');
        await eventStore.appendToStream(
          userId,
          [
            {
              type: 'test.UserRegistered',
              data: { userId, name: 'Grace Hopper', email: 'grace@example.com' },
            },
          ],
          { publishTo: 'users' },
        );
        const claimed = await store.outbox.claimBatch({ owner: 'relay-1', limit: 10, leaseMs: 10_000 });
        expect(claimed.map((m) => [m.destination, m.orderingKey, m.type])).toEqual([
          ['users', userId, 'test.UserRegistered'],
        ]);
        expect(JSON.stringify(claimed[0]!.payload)).not.toContain('Grace Hopper');
      }),
    );
  });
}
