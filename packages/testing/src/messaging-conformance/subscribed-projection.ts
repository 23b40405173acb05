import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEventStore,
  createOutboxRelay,
  createProjectionRunner,
  createReadModelReader,
  type DeadLetter,
  defineProjection,
  type EventStore,
  eventStoreHistory,
  mergeConsistencyTokens,
  type Store,
  subscribeTo,
  type Transport,
} from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { balancesProjection, registry, uniqueId } from '../event-store-conformance/fixtures.ts';

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Balance per account and deposit count, computed from A's own log: what B's read model must equal. */
async function expectedFrom(eventStore: EventStore) {
  const all = await eventStore.readAll({ position: 0 }, { limit: 10_000 });
  const balances = new Map<string, number>();
  let deposits = 0;
  for (const event of all.events) {
    if (event.type === 'test.AccountOpened') balances.set(event.streamId, 0);
    if (event.type === 'test.Deposited') {
      deposits++;
      const amount = (event.data as { amountCents: number }).amountCents;
      balances.set(event.streamId, (balances.get(event.streamId) ?? 0) + amount);
    }
  }
  return { balances, deposits };
}

async function countDeposits(store: Store): Promise<number> {
  const [row] = await store.transaction((tx) =>
    tx.query<{ total: number | string }>('SELECT COUNT(*) AS total FROM deposits'),
  );
  return Number(row?.total);
}

/**
 * A projection in service B fed by service A's events: delivered live by a consumer over a real
 * transport, replayed from A's history on rebuild. Each event applies once, whatever overlaps.
 */
export function describeSubscribedProjectionConformance(
  name: string,
  openTransport: () => Promise<Transport>,
) {
  describe(`a projection subscribed to another service through ${name}`, () => {
    const closers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close().catch(() => {});
    });

    async function setup(projection = balancesProjection) {
      const directory = mkdtempSync(join(tmpdir(), 'causeway-subscribed-'));
      const storeA = await createSqliteStore({ filename: join(directory, 'a.db') });
      const storeB = await createSqliteStore({ filename: join(directory, 'b.db') });
      const transport = await openTransport();
      const destination = `a_events_${uniqueId('d').replace(/\W/g, '_')}`;
      const relay = createOutboxRelay({ store: storeA, transport, idlePollMs: 20 });
      const source = createEventStore({ store: storeA, registry });
      const runner = createProjectionRunner({
        eventStore: createEventStore({ store: storeB, registry }),
        projections: [projection],
        sources: [subscribeTo({ name: 'a', destination, registry, history: eventStoreHistory(source) })],
        subscription: { name: `b_${uniqueId('g').replace(/\W/g, '_')}`, transport, maxAttempts: 2 },
        batchSize: 7,
      });
      closers.push(
        () => storeA.close(),
        () => storeB.close(),
        () => transport.close(),
        () => relay.stop(),
        () => runner.stop(),
      );
      relay.start();
      /** Opens accounts; answers one token for all of them (stream order holds per account only). */
      const open = async (count: number) => {
        const tokens: string[] = [];
        for (let index = 0; index < count; index++) {
          const outcome = await source.appendToStream(
            uniqueId('acct'),
            [
              { type: 'test.AccountOpened', data: { holder: `holder ${index}`, currency: 'EUR' } },
              { type: 'test.Deposited', data: { amountCents: 100 } },
              { type: 'test.Deposited', data: { amountCents: 25 } },
            ],
            { publishTo: destination },
          );
          tokens.push(outcome.consistencyToken);
        }
        return mergeConsistencyTokens(tokens);
      };
      const deposit = async (streamId: string, amountCents: number) =>
        (
          await source.appendToStream(streamId, [{ type: 'test.Deposited', data: { amountCents } }], {
            publishTo: destination,
          })
        ).consistencyToken;
      const matchesSource = async () => {
        const expected = await expectedFrom(source);
        const reader = createReadModelReader(storeB, balancesProjection);
        for (const [streamId, balance] of expected.balances) {
          expect(await reader.get('accounts', streamId)).toMatchObject({ balanceCents: balance });
        }
        expect(await countDeposits(storeB)).toBe(expected.deposits);
      };
      return { storeB, source, runner, open, deposit, matchesSource, destination };
    }

    it("applies another service's events once each and honours that service's consistency token", async () => {
      const { runner, open, matchesSource } = await setup();
      await runner.start();
      const last = await open(12);
      await runner.waitFor('balances', last, { timeoutMs: 20_000 });
      await matchesSource();
      const status = await runner.status('balances');
      expect(status.sources).toEqual([
        expect.objectContaining({ name: 'a', kind: 'subscription', applied: 36, lagEvents: 0, error: null }),
      ]);
    });

    it('shows the lag grow while paused, and catches up after resume', async () => {
      const { runner, open, deposit, matchesSource } = await setup();
      await runner.start();
      await runner.waitFor('balances', await open(2), { timeoutMs: 20_000 });
      await runner.pause();
      expect((await runner.status('balances')).sources[0]!.lagEvents).toBe(0);
      await deposit(uniqueId('acct'), 1);
      await eventually(async () => (await runner.status('balances')).sources[0]!.lagEvents === 1, 'lag of 1');
      expect((await runner.status('balances')).state).toBe('paused');
      await runner.resume();
      await eventually(async () => (await runner.status('balances')).sources[0]!.lagEvents === 0, 'lag of 0');
      await matchesSource();
    });

    it("dead-letters an event the projection's handler keeps failing on, parks its stream, and redrives it once fixed", async () => {
      const failing = { stream: uniqueId('poison') };
      const fragile = defineProjection({
        name: 'fragile',
        collections: ['seen'],
        handlers: {
          'test.Deposited': async (event, { documents }) => {
            if (event.streamId === failing.stream) throw new Error('handler failed');
            await documents.put('seen', event.id, { stream: event.streamId });
          },
        },
      });
      const { storeB, runner, deposit } = await setup(fragile);
      await runner.start();
      const seen = () => createReadModelReader(storeB, fragile).count('seen');
      await deposit(failing.stream, 1);
      const behind = await deposit(failing.stream, 2); // parked behind the dead one
      const other = await deposit(uniqueId('acct'), 3);
      await runner.waitFor('fragile', other, { timeoutMs: 20_000 });
      let entries: DeadLetter[] = [];
      await eventually(async () => {
        entries = await storeB.deadLetters.list({ consumer: runner.consumer!.name });
        return entries.length === 2;
      }, 'a dead and a parked entry');
      expect(entries.map((entry) => entry.status).sort()).toEqual(['dead', 'parked']);
      expect(await seen()).toBe(1);

      failing.stream = 'nothing';
      const dead = entries.find((entry) => entry.status === 'dead')!;
      expect(await runner.redrive(dead.sequence)).toEqual({ redriven: 2 });
      await runner.waitFor('fragile', behind, { timeoutMs: 20_000 });
      expect(await seen()).toBe(3);
    });

    it('rebuilds from the source history while live delivery goes on: nothing applied twice or skipped', async () => {
      const { runner, source, open, deposit, matchesSource } = await setup();
      await runner.start();
      await runner.waitFor('balances', await open(25), { timeoutMs: 20_000 });
      const streams = [...(await expectedFrom(source)).balances.keys()];
      let writing = true;
      const tokens: string[] = [];
      // Undelivered while paused, replayed by the rebuild, delivered after: each must apply once.
      await runner.pause();
      for (const streamId of streams.slice(0, 10)) tokens.push(await deposit(streamId, 1000));
      const writer = (async () => {
        for (let index = 0; writing || index < 20; index++) {
          tokens.push(await deposit(streams[index % streams.length]!, index + 1));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      const progress: number[] = [];
      const rebuilt = await runner.rebuild('balances', {
        onProgress: async (p) => {
          if (progress.push(p.processed) === 1) await runner.resume();
        },
      });
      writing = false;
      await writer;
      expect(rebuilt.generation).toBe(2);
      expect(progress.length).toBeGreaterThan(0);
      await runner.waitFor('balances', mergeConsistencyTokens(tokens), { timeoutMs: 20_000 });
      await matchesSource();
      const status = await runner.status('balances');
      expect(status).toMatchObject({ generation: 2, state: 'live', rebuild: { status: 'done' } });
      expect(status.sources[0]!.lagEvents).toBe(0);
    });
  });
}
