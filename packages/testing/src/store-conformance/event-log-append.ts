import {
  type AppendResult,
  ConcurrencyError,
  type ExpectedVersion,
  IdempotencyConflictError,
} from '@causeway/core';
import { describe, expect, it } from 'vitest';
import {
  appendEvents,
  appendInTransaction,
  claimEverything,
  type GetStore,
  newEvents,
  newOutboxMessage,
  rejectionOf,
  rollBack,
  uniqueName,
} from './fixtures.ts';

/** Version checks, idempotent retries, group commit and atomicity of `append`/`appendMany`. */
export function describeAppendConformance(getStore: GetStore): void {
  describe('EventLog.append', () => {
    const succeeding: Array<[string, number, ExpectedVersion]> = [
      ['any on a new stream', 0, 'any'],
      ['any on an existing stream', 2, 'any'],
      ['noStream on a new stream', 0, 'noStream'],
      ['0 on a new stream', 0, 0],
      ['streamExists on an existing stream', 2, 'streamExists'],
      ['the current version', 2, 2],
    ];
    it.each(succeeding)('appends with %s', async (_, existing, expectedVersion) => {
      const store = getStore();
      const streamId = uniqueName('stream');
      if (existing > 0) await appendEvents(store, streamId, 'noStream', existing);
      const result = await appendEvents(store, streamId, expectedVersion, 2);
      expect(result.streamId).toBe(streamId);
      expect(result.nextExpectedVersion).toBe(existing + 2);
      expect(result.deduplicated).toBe(false);
      expect(result.positions.map((position) => position.streamPosition)).toEqual([
        existing + 1,
        existing + 2,
      ]);
      expect(result.positions[1]!.globalPosition).toBeGreaterThan(result.positions[0]!.globalPosition);
      expect(await store.events.streamVersion(null, streamId)).toBe(existing + 2);
    });

    const conflicting: Array<[string, number, ExpectedVersion]> = [
      ['noStream on an existing stream', 2, 'noStream'],
      ['0 on an existing stream', 2, 0],
      ['streamExists on a new stream', 0, 'streamExists'],
      ['a version below the current one', 2, 1],
      ['a version above the current one', 2, 3],
      ['a version on a new stream', 0, 1],
    ];
    it.each(conflicting)(
      'rejects %s with ConcurrencyError and writes nothing',
      async (_, existing, expected) => {
        const store = getStore();
        const streamId = uniqueName('stream');
        if (existing > 0) await appendEvents(store, streamId, 'noStream', existing);
        await claimEverything(store);
        const head = await store.events.headPosition();
        const outboxMessage = newOutboxMessage();
        const events = newEvents(streamId, 1);
        const error = await rejectionOf(
          appendInTransaction(store, {
            streamId,
            expectedVersion: expected,
            events,
            outbox: [outboxMessage],
          }),
        );
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).details).toMatchObject({ streamId, actual: existing });
        expect(await store.events.streamVersion(null, streamId)).toBe(existing);
        expect(await store.events.headPosition()).toBe(head);
        expect((await claimEverything(store)).map((message) => message.id)).not.toContain(outboxMessage.id);
        // The rejected event ids were not stored: using them now is a fresh append, not a retry.
        const retried = await appendInTransaction(store, { streamId, expectedVersion: existing, events });
        expect(retried.deduplicated).toBe(false);
      },
    );

    it('returns the original positions for a retried append and writes nothing', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      const events = newEvents(streamId, 2);
      const first = await appendInTransaction(store, { streamId, expectedVersion: 'noStream', events });
      await claimEverything(store);
      const head = await store.events.headPosition();
      const outboxMessage = newOutboxMessage();
      const retry = await appendInTransaction(store, {
        streamId,
        expectedVersion: 'noStream',
        events,
        outbox: [outboxMessage],
      });
      expect(retry.deduplicated).toBe(true);
      expect(retry.positions).toEqual(first.positions);
      expect(retry.nextExpectedVersion).toBe(2);
      expect(await store.events.streamVersion(null, streamId)).toBe(2);
      expect(await store.events.headPosition()).toBe(head);
      expect((await claimEverything(store)).map((message) => message.id)).not.toContain(outboxMessage.id);
    });

    it('rejects an event id already used in another stream', async () => {
      const store = getStore();
      const [event] = newEvents(uniqueName('stream'), 1);
      await appendInTransaction(store, {
        streamId: uniqueName('stream'),
        expectedVersion: 'any',
        events: [event!],
      });
      const otherStream = uniqueName('stream');
      const error = await rejectionOf(
        appendInTransaction(store, { streamId: otherStream, expectedVersion: 'any', events: [event!] }),
      );
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect(await store.events.streamVersion(null, otherStream)).toBe(0);
    });

    it('rejects a request in which only some event ids are already stored', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      const [stored, fresh] = newEvents(streamId, 2);
      await appendInTransaction(store, { streamId, expectedVersion: 'noStream', events: [stored!] });
      const error = await rejectionOf(
        appendInTransaction(store, { streamId, expectedVersion: 'any', events: [stored!, fresh!] }),
      );
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect(await store.events.streamVersion(null, streamId)).toBe(1);
    });

    it('writes nothing when the transaction around it rolls back', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      await claimEverything(store);
      const head = await store.events.headPosition();
      const outboxMessage = newOutboxMessage();
      await rollBack(store, async (tx) => {
        await store.events.append(tx, {
          streamId,
          expectedVersion: 'noStream',
          events: newEvents(streamId, 2),
          outbox: [outboxMessage],
        });
      });
      expect(await store.events.streamVersion(null, streamId)).toBe(0);
      expect(
        await store.events.readStream(null, streamId, { direction: 'forward', fromVersion: 1, limit: 10 }),
      ).toEqual([]);
      const after = await store.events.readAll({ position: head }, { limit: 100 });
      expect(after.events.filter((event) => event.streamId === streamId)).toEqual([]);
      expect((await claimEverything(store)).map((message) => message.id)).not.toContain(outboxMessage.id);
    });

    it('writes the request’s outbox messages so that they can be claimed', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      await claimEverything(store);
      const outboxMessage = newOutboxMessage({ payload: { streamId, text: 'ünïcode ✓' } });
      await appendInTransaction(store, {
        streamId,
        expectedVersion: 'noStream',
        events: newEvents(streamId, 1),
        outbox: [outboxMessage],
      });
      const claimed = await claimEverything(store);
      expect(claimed.find((message) => message.id === outboxMessage.id)).toMatchObject(outboxMessage);
    });

    describePublishToConformance(getStore);
  });

  describeAppendManyConformance(getStore);
}

function describeAppendManyConformance(getStore: GetStore): void {
  describe('EventLog.appendMany', () => {
    it('commits the good requests and returns errors for the bad ones, neither affecting the other', async () => {
      const store = getStore();
      const [fresh, existing, other, missing] = ['a', 'b', 'c', 'd'].map((name) =>
        uniqueName(`stream_${name}`),
      );
      await appendEvents(store, existing!, 'noStream', 1);
      const results = await store.events.appendMany([
        { streamId: fresh!, expectedVersion: 'noStream', events: newEvents(fresh!, 2) },
        { streamId: existing!, expectedVersion: 5, events: newEvents(existing!, 1) },
        { streamId: other!, expectedVersion: 'any', events: newEvents(other!, 1) },
        { streamId: missing!, expectedVersion: 'streamExists', events: newEvents(missing!, 1) },
      ]);
      expect(results).toHaveLength(4);
      expect((results[0] as AppendResult).nextExpectedVersion).toBe(2);
      expect(results[1]).toBeInstanceOf(ConcurrencyError);
      expect((results[1] as ConcurrencyError).details).toMatchObject({ streamId: existing, actual: 1 });
      expect((results[2] as AppendResult).positions).toHaveLength(1);
      expect(results[3]).toBeInstanceOf(ConcurrencyError);
      expect((results[3] as ConcurrencyError).details).toMatchObject({ streamId: missing, actual: 0 });
      expect(await store.events.streamVersion(null, fresh!)).toBe(2);
      expect(await store.events.streamVersion(null, existing!)).toBe(1);
      expect(await store.events.streamVersion(null, other!)).toBe(1);
      expect(await store.events.streamVersion(null, missing!)).toBe(0);
    });

    it('checks the requests in turn, so a later one sees an earlier one of the same call', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      const results = await store.events.appendMany([
        { streamId, expectedVersion: 'noStream', events: newEvents(streamId, 1) },
        { streamId, expectedVersion: 1, events: newEvents(streamId, 1) },
        { streamId, expectedVersion: 1, events: newEvents(streamId, 1) },
      ]);
      expect((results[1] as AppendResult).nextExpectedVersion).toBe(2);
      expect(results[2]).toBeInstanceOf(ConcurrencyError);
      expect(await store.events.streamVersion(null, streamId)).toBe(2);
    });

    it('deduplicates a retried request and keeps an id conflict to its own request', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      const events = newEvents(streamId, 1);
      const first = await appendInTransaction(store, { streamId, expectedVersion: 'noStream', events });
      const otherStream = uniqueName('stream');
      const results = await store.events.appendMany([
        { streamId, expectedVersion: 'noStream', events },
        { streamId: otherStream, expectedVersion: 'any', events },
        { streamId: otherStream, expectedVersion: 'any', events: newEvents(otherStream, 1) },
      ]);
      expect(results[0]).toMatchObject({ deduplicated: true, positions: first.positions });
      expect(results[1]).toBeInstanceOf(IdempotencyConflictError);
      expect((results[2] as AppendResult).nextExpectedVersion).toBe(1);
      expect(await store.events.streamVersion(null, otherStream)).toBe(1);
    });

    it('returns an empty list for no requests', async () => {
      expect(await getStore().events.appendMany([])).toEqual([]);
    });
  });
}

/** `publishTo`: each appended event's envelope lands in the outbox in the append's own commit. */
function describePublishToConformance(getStore: GetStore): void {
  const destination = 'conformance_events';

  async function outboxOf(store: ReturnType<GetStore>, streamId: string) {
    return (await claimEverything(store)).filter((message) => message.orderingKey === streamId);
  }

  it.each([
    ['one event, alone (group commit)', 1, false],
    ['three events, alone (group commit)', 3, false],
    ['one event, in a transaction', 1, true],
  ])(
    'publishTo with %s puts each event in the outbox with its positions',
    async (_, count, inTransaction) => {
      const store = getStore();
      const streamId = uniqueName('published');
      await claimEverything(store);
      const events = newEvents(streamId, count);
      const request = { streamId, expectedVersion: 'noStream' as const, events, publishTo: destination };
      const result = inTransaction
        ? await appendInTransaction(store, request)
        : ((await store.events.appendMany([request]))[0] as AppendResult);
      const outbox = await outboxOf(store, streamId);
      expect(outbox.map((message) => [message.id, message.destination, message.type])).toEqual(
        events.map((event) => [event.id, destination, event.type]),
      );
      outbox.forEach((message, index) => {
        expect(message.payload).toEqual({ ...events[index]!, ...result.positions[index]! });
      });
    },
  );

  it('publishTo in a group commit writes outbox rows only for the requests that succeed', async () => {
    const store = getStore();
    const [good, bad] = [uniqueName('published_good'), uniqueName('published_bad')];
    await appendEvents(store, bad, 'noStream', 1);
    await claimEverything(store);
    const results = await store.events.appendMany([
      { streamId: good, expectedVersion: 'noStream', events: newEvents(good, 2), publishTo: destination },
      { streamId: bad, expectedVersion: 'noStream', events: newEvents(bad, 1), publishTo: destination },
    ]);
    expect(results[1]).toBeInstanceOf(ConcurrencyError);
    expect(await outboxOf(store, good)).toHaveLength(2);
    expect(await outboxOf(store, bad)).toEqual([]);
  });

  it('a retried append with publishTo is deduplicated and enqueues nothing again', async () => {
    const store = getStore();
    const streamId = uniqueName('published_retry');
    await claimEverything(store);
    const request = {
      streamId,
      expectedVersion: 'noStream' as const,
      events: newEvents(streamId, 2),
      publishTo: destination,
    };
    await store.events.appendMany([request]);
    expect(await outboxOf(store, streamId)).toHaveLength(2);
    const [retry] = await store.events.appendMany([request]);
    expect((retry as AppendResult).deduplicated).toBe(true);
    expect(await outboxOf(store, streamId)).toEqual([]);
  });
}
