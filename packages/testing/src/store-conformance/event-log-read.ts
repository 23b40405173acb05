import type { EventToStore, ReadStreamOptions } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { appendEvents, appendInTransaction, type GetStore, newEvent, uniqueName } from './fixtures.ts';

/** readStream, streamVersion, readAll, headPosition and exact round-trips of every field. */
export function describeReadConformance(getStore: GetStore): void {
  describe('EventLog reads', () => {
    it('round-trips every field of an event exactly', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      const event: EventToStore = newEvent({
        streamId,
        type: 'OrderPlaced',
        schemaVersion: 3,
        correlationId: uniqueName('correlation'),
        causationId: uniqueName('causation'),
        occurredAt: '2024-05-06T07:08:09.123Z',
        metadata: { tenant: 'acme', actor: { id: 'u-1', roles: ['admin'] }, traceparent: '00-abc-def-01' },
        data: { orderId: 'o-1', lines: [{ sku: 'ß-✓', quantity: 2, price: 10.5 }], note: null, paid: false },
      });
      const plain = newEvent({ streamId });
      const result = await appendInTransaction(store, {
        streamId,
        expectedVersion: 'noStream',
        events: [event, plain],
      });
      const [stored, storedPlain] = await store.events.readStream(null, streamId, {
        direction: 'forward',
        fromVersion: 1,
        limit: 10,
      });
      expect(stored).toEqual({
        ...event,
        streamPosition: 1,
        globalPosition: result.positions[0]!.globalPosition,
      });
      expect(storedPlain).toEqual({
        ...plain,
        streamPosition: 2,
        globalPosition: result.positions[1]!.globalPosition,
      });
      const batch = await store.events.readAll(
        { position: result.positions[0]!.globalPosition - 1 },
        { limit: 1 },
      );
      expect(batch.events).toEqual([stored]);
    });

    it('reads the events of one flow by correlation id, across streams, in global order', async () => {
      const store = getStore();
      const correlationId = uniqueName('flow');
      const [a, b] = [uniqueName('stream'), uniqueName('stream')];
      const first = newEvent({ streamId: a, correlationId });
      await appendInTransaction(store, { streamId: a, expectedVersion: 'noStream', events: [first] });
      await appendInTransaction(store, {
        streamId: b,
        expectedVersion: 'noStream',
        events: [newEvent({ streamId: b }), newEvent({ streamId: b, correlationId })],
      });
      const second = newEvent({ streamId: a, correlationId });
      await appendInTransaction(store, { streamId: a, expectedVersion: 1, events: [second] });
      const flow = await store.events.readByCorrelation(correlationId, { limit: 10 });
      expect(flow.map((event) => [event.streamId, event.streamPosition])).toEqual([
        [a, 1],
        [b, 2],
        [a, 2],
      ]);
      expect(flow.map((event) => event.globalPosition)).toEqual(
        [...flow.map((event) => event.globalPosition)].sort((x, y) => x - y),
      );
      expect(await store.events.readByCorrelation(correlationId, { limit: 2 })).toEqual(flow.slice(0, 2));
      expect(await store.events.readByCorrelation(uniqueName('no_flow'), { limit: 10 })).toEqual([]);
    });

    it('counts the streams and the events they hold (census)', async () => {
      const store = getStore();
      const before = await store.events.census();
      const [first, second] = [uniqueName('stream'), uniqueName('stream')];
      await appendInTransaction(store, {
        streamId: first,
        expectedVersion: 'noStream',
        events: [newEvent({ streamId: first }), newEvent({ streamId: first }), newEvent({ streamId: first })],
      });
      await appendInTransaction(store, {
        streamId: second,
        expectedVersion: 'noStream',
        events: [newEvent({ streamId: second }), newEvent({ streamId: second })],
      });
      expect(await store.events.census()).toEqual({ streams: before.streams + 2, events: before.events + 5 });
    });

    it('reads a stream forward and backward from a version, with a limit', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      await appendEvents(store, streamId, 'noStream', 5);
      const positions = async (options: ReadStreamOptions) =>
        (await store.events.readStream(null, streamId, options)).map((event) => event.streamPosition);
      expect(await positions({ direction: 'forward', fromVersion: 1, limit: 100 })).toEqual([1, 2, 3, 4, 5]);
      expect(await positions({ direction: 'forward', fromVersion: 2, limit: 2 })).toEqual([2, 3]);
      expect(await positions({ direction: 'forward', fromVersion: 6, limit: 10 })).toEqual([]);
      expect(await positions({ direction: 'backward', fromVersion: 4, limit: 3 })).toEqual([4, 3, 2]);
      expect(await positions({ direction: 'backward', fromVersion: 1000, limit: 2 })).toEqual([5, 4]);
      expect(
        await store.events.readStream(null, uniqueName('missing'), {
          direction: 'forward',
          fromVersion: 1,
          limit: 5,
        }),
      ).toEqual([]);
    });

    it('reads only events that occurred until a time', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      const times = ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z'];
      const events = times.map((occurredAt) => newEvent({ streamId, occurredAt }));
      await appendInTransaction(store, { streamId, expectedVersion: 'noStream', events });
      const read = (direction: 'forward' | 'backward', fromVersion: number) =>
        store.events.readStream(null, streamId, {
          direction,
          fromVersion,
          limit: 10,
          occurredUntil: times[1],
        });
      expect((await read('forward', 1)).map((event) => event.occurredAt)).toEqual(times.slice(0, 2));
      expect((await read('backward', 3)).map((event) => event.streamPosition)).toEqual([2, 1]);
    });

    it('reports a stream’s version, 0 when it does not exist', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      expect(await store.events.streamVersion(null, streamId)).toBe(0);
      await appendEvents(store, streamId, 'noStream', 3);
      expect(await store.events.streamVersion(null, streamId)).toBe(3);
      await store.transaction(async (tx) => {
        await store.events.append(tx, { streamId, expectedVersion: 3, events: [newEvent({ streamId })] });
        expect(await store.events.streamVersion(tx, streamId)).toBe(4);
      });
    });

    it('reads the global log from a cursor in position order, advancing the cursor', async () => {
      const store = getStore();
      const head = await store.events.headPosition();
      const streams = [uniqueName('stream'), uniqueName('stream')];
      const first = await appendEvents(store, streams[0]!, 'noStream', 2);
      const second = await appendEvents(store, streams[1]!, 'noStream', 1);
      const expected = [...first.positions, ...second.positions].map((position) => position.globalPosition);
      expect(await store.events.headPosition()).toBe(expected[2]);

      const page1 = await store.events.readAll({ position: head }, { limit: 2 });
      expect(page1.events.map((event) => event.globalPosition)).toEqual(expected.slice(0, 2));
      expect(page1.cursor.position).toBe(expected[1]);
      expect(page1.heldBackMs).toBe(0);
      const page2 = await store.events.readAll(page1.cursor, { limit: 10 });
      expect(page2.events.map((event) => [event.streamId, event.streamPosition])).toEqual([[streams[1], 1]]);
      expect(page2.cursor.position).toBe(expected[2]);
      const idle = await store.events.readAll(page2.cursor, { limit: 10 });
      expect(idle.events).toEqual([]);
      expect(idle.cursor.position).toBe(expected[2]);
      expect(idle.heldBackMs).toBe(0);
    });

    it('reports the head position as the highest committed global position', async () => {
      const store = getStore();
      const result = await appendEvents(store, uniqueName('stream'), 'noStream', 2);
      expect(await store.events.headPosition()).toBe(result.positions[1]!.globalPosition);
    });
  });
}
