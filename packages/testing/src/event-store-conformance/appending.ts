import {
  ConcurrencyError,
  createEventStore,
  decodeConsistencyToken,
  type EventStore,
  InvalidArgumentError,
  newMessageId,
  type Store,
  UnknownEventTypeError,
  ValidationError,
} from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { registry, uniqueId } from './fixtures.ts';

export function describeAppending(getStore: () => Store) {
  const eventStore = (): EventStore => createEventStore({ store: getStore(), registry });

  describe('appending and reading', () => {
    it('appends, returns positions and a consistency token, reads forward and backward', async () => {
      const es = eventStore();
      const stream = uniqueId('acct');
      const outcome = await es.appendToStream(
        stream,
        [
          { type: 'test.AccountOpened', data: { holder: 'Ada', currency: 'EUR' } },
          { type: 'test.Deposited', data: { amountCents: 500 } },
        ],
        { expectedVersion: 'noStream', correlationId: 'corr-1', metadata: { tenant: 't1' } },
      );
      expect(outcome.nextExpectedVersion).toBe(2);
      expect(decodeConsistencyToken(outcome.consistencyToken)).toEqual([{ streamId: stream, version: 2 }]);
      const forward = await es.readStream(stream);
      expect(forward.map((e) => [e.type, e.streamPosition, e.correlationId, e.metadata.tenant])).toEqual([
        ['test.AccountOpened', 1, 'corr-1', 't1'],
        ['test.Deposited', 2, 'corr-1', 't1'],
      ]);
      expect(
        (await es.readStream(stream, { direction: 'backward', limit: 1 })).map((e) => e.streamPosition),
      ).toEqual([2]);
    });

    it('reads a stream whole, past any page size, unless the caller pages explicitly', async () => {
      const es = eventStore();
      const stream = uniqueId('long');
      const deposit = { type: 'test.Deposited' as const, data: { amountCents: 1 } };
      for (let batch = 0; batch < 3; batch++) {
        await es.appendToStream(
          stream,
          Array.from({ length: 900 }, () => deposit),
        );
      }
      const all = await es.readStream(stream);
      expect(all.map((e) => e.streamPosition)).toEqual(Array.from({ length: 2_700 }, (_, i) => i + 1));
      const backward = await es.readStream(stream, { direction: 'backward' });
      expect(backward).toHaveLength(2_700);
      expect(backward[0]!.streamPosition).toBe(2_700);
      expect(backward.at(-1)!.streamPosition).toBe(1);
      const page = await es.readStream(stream, { fromVersion: 1_001, limit: 50 });
      expect(page.map((e) => e.streamPosition)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1_001));
      // The stream is not stuck at 1,000: an append at its real version succeeds.
      await es.appendToStream(stream, [deposit], { expectedVersion: 2_700 });
    });

    it('group-commits concurrent appends while each keeps its own version check', async () => {
      // Count the appendMany calls (one commit each) that core's group committer makes.
      const store = getStore();
      let calls = 0;
      const events = {
        ...store.events,
        appendMany: (requests: Parameters<Store['events']['appendMany']>[0]) => {
          calls += 1;
          return store.events.appendMany(requests);
        },
      };
      const es = createEventStore({ store: { ...store, events }, registry });
      const streams = Array.from({ length: 40 }, () => uniqueId('race'));
      const attempts = streams.flatMap((stream) =>
        [1, 2, 3].map(() =>
          es.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: 1 } }], {
            expectedVersion: 'noStream',
          }),
        ),
      );
      const settled = await Promise.allSettled(attempts);
      const won = settled.filter((s) => s.status === 'fulfilled');
      const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(won).toHaveLength(streams.length);
      expect(lost.every((s) => s.reason instanceof ConcurrencyError)).toBe(true);
      for (const stream of streams) expect(await es.readStream(stream)).toHaveLength(1);
      // 120 appends made together go in a few calls (one here: the burst), not one by one.
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(4);
    });

    it('rejects a lone noStream append to an existing stream with ConcurrencyError, writing nothing', async () => {
      const es = eventStore();
      const stream = uniqueId('taken');
      await es.appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: 1 } }], {
        expectedVersion: 'noStream',
      });
      const error = await es
        .appendToStream(stream, [{ type: 'test.Deposited', data: { amountCents: 2 } }], {
          expectedVersion: 'noStream',
        })
        .then(
          () => undefined,
          (rejection: unknown) => rejection,
        );
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as ConcurrencyError).details).toMatchObject({ streamId: stream, actual: 1 });
      expect((await es.readStream(stream)).map((event) => event.data)).toEqual([{ amountCents: 1 }]);
    });

    it('treats a re-append of the same event id as done', async () => {
      const es = eventStore();
      const stream = uniqueId('idem');
      const id = newMessageId();
      const first = await es.appendToStream(
        stream,
        [{ id, type: 'test.Deposited', data: { amountCents: 7 } }],
        { expectedVersion: 'noStream' },
      );
      const again = await es.appendToStream(
        stream,
        [{ id, type: 'test.Deposited', data: { amountCents: 7 } }],
        { expectedVersion: 'noStream' },
      );
      expect(again.deduplicated).toBe(true);
      expect(again.positions).toEqual(first.positions);
      expect(await es.readStream(stream)).toHaveLength(1);
    });

    it('upcasts old stored events on read and never rewrites them', async () => {
      const store = getStore();
      const es = eventStore();
      const stream = uniqueId('old');
      const id = newMessageId();
      await store.transaction((tx) =>
        store.events.append(tx, {
          streamId: stream,
          expectedVersion: 'noStream',
          events: [
            {
              id,
              type: 'test.AccountOpened',
              schemaVersion: 1,
              streamId: stream,
              correlationId: null,
              causationId: null,
              occurredAt: new Date().toISOString(),
              metadata: {},
              data: { owner: 'Grace' },
            },
          ],
        }),
      );
      const [event] = await es.readStream(stream);
      expect(event).toMatchObject({ schemaVersion: 2, data: { holder: 'Grace', currency: 'USD' } });
      const [raw] = await store.events.readStream(null, stream, {
        direction: 'forward',
        fromVersion: 1,
        limit: 1,
      });
      expect(raw).toMatchObject({ schemaVersion: 1, data: { owner: 'Grace' } });
    });
  });

  describe('bad input writes nothing', () => {
    it.each([
      ['an invalid payload', [{ type: 'test.Deposited', data: { amountCents: -5 } }], ValidationError],
      ['a missing field', [{ type: 'test.AccountOpened', data: { holder: 'x' } }], ValidationError],
      ['an unknown type', [{ type: 'test.Nope', data: {} }], UnknownEventTypeError],
      ['no events', [], InvalidArgumentError],
      [
        'a bad occurredAt',
        [{ type: 'test.Deposited', data: { amountCents: 1 }, occurredAt: 'yesterday' }],
        InvalidArgumentError,
      ],
    ])('refuses %s', async (_label, events, errorClass) => {
      const es = eventStore();
      const stream = uniqueId('bad');
      // A valid event first proves the whole append is refused, not just the bad event.
      const batch = [{ type: 'test.Deposited', data: { amountCents: 1 } }, ...events];
      await expect(es.appendToStream(stream, events.length ? batch : [])).rejects.toBeInstanceOf(errorClass);
      expect(await getStore().events.streamVersion(null, stream)).toBe(0);
    });

    it('refuses malformed stream ids, limits, versions and cursors', async () => {
      const es = eventStore();
      const ok = [{ type: 'test.Deposited', data: { amountCents: 1 } }];
      await expect(es.appendToStream('bad id', ok)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(es.appendToStream('$system', ok)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(es.appendToStream('s-1', ok, { expectedVersion: -1 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(
        es.appendToStream('s-1', ok, { expectedVersion: 'sometimes' as never }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(es.readStream('s-1', { limit: -1 })).rejects.toThrow(/limit must be an integer/);
      await expect(es.readStream('s-1', { limit: 1e9 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(es.readStream('s-1', { fromVersion: -3 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(es.readAll({ position: -1 }, { limit: 10 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(es.readAll({ position: 0 }, { limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await getStore().events.streamVersion(null, 's-1')).toBe(0);
    });
  });
}
