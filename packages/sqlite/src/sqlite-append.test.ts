import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppendRequest,
  ConcurrencyError,
  createEventStore,
  type ExpectedVersion,
  IdempotencyConflictError,
  InvalidArgumentError,
  newMessageId,
  type Store,
  StoreFailureError,
} from '@causeway/core';
import { registry } from '@causeway/testing/event-store-conformance';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from './index.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-sqlite-append-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let store: Store;
let fileCount = 0;
beforeEach(async () => {
  fileCount += 1;
  store = await createSqliteStore({ filename: join(directory, `append-${fileCount}.db`) });
});
afterEach(() => store.close());

function events(streamId: string, count: number, ids: string[] = []) {
  return Array.from({ length: count }, (_, index) => ({
    id: ids[index] ?? newMessageId(),
    type: 'Tested',
    schemaVersion: 1,
    streamId,
    correlationId: null,
    causationId: null,
    occurredAt: new Date().toISOString(),
    metadata: { index },
    data: { index },
  }));
}

function append(request: AppendRequest) {
  return store.transaction((tx) => store.events.append(tx, request));
}

describe('sqlite appends', () => {
  it('returns the stored positions, also for an append that takes several INSERT statements', async () => {
    await append({ streamId: 'other', expectedVersion: 'noStream', events: events('other', 3) });
    for (const count of [1, 3, 128, 129, 300]) {
      const streamId = `stream-${count}`;
      const result = await append({ streamId, expectedVersion: 'noStream', events: events(streamId, count) });
      const stored = await store.events.readStream(null, streamId, {
        direction: 'forward',
        fromVersion: 1,
        limit: 1_000,
      });
      expect(result.positions).toEqual(
        stored.map((event) => ({
          streamPosition: event.streamPosition,
          globalPosition: event.globalPosition,
        })),
      );
      expect(stored.map((event) => event.data)).toEqual(events(streamId, count).map((event) => event.data));
    }
  });

  const expectations: Array<[string, ExpectedVersion, number]> = [
    ['noStream on a new stream', 'noStream', 0],
    ['any on a new stream', 'any', 0],
    ['any on an existing stream', 'any', 2],
    ['streamExists', 'streamExists', 2],
    ['the current version', 2, 2],
  ];
  it.each(expectations)(
    'puts the stream version back when the events cannot be written (%s)',
    async (_, expectedVersion, existing) => {
      const takenId = newMessageId();
      await append({ streamId: 'owner', expectedVersion: 'any', events: events('owner', 1, [takenId]) });
      if (existing > 0)
        await append({ streamId: 's', expectedVersion: 'noStream', events: events('s', existing) });
      await expect(
        append({ streamId: 's', expectedVersion, events: events('s', 2, [newMessageId(), takenId]) }),
      ).rejects.toBeInstanceOf(IdempotencyConflictError);
      const repeated = newMessageId();
      // One request with the same id twice: the INSERT fails inside a transaction that goes on.
      await store.transaction(async (tx) => {
        const failure = store.events.append(tx, {
          streamId: 's',
          expectedVersion,
          events: events('s', 2, [repeated, repeated]),
        });
        await expect(failure).rejects.toBeInstanceOf(StoreFailureError);
        await store.documents.put(tx, 'notes', 'n', { kept: true });
      });
      expect(await store.documents.get(null, 'notes', 'n')).toEqual({ kept: true });
      expect(await store.events.streamVersion(null, 's')).toBe(existing);
      const next = await append({ streamId: 's', expectedVersion: existing, events: events('s', 1) });
      expect(next.positions[0]!.streamPosition).toBe(existing + 1);
    },
  );

  it('writes nothing of a many-event append whose outbox message fails', async () => {
    const message = { id: newMessageId(), destination: 'd', orderingKey: 'k', type: 't', payload: {} };
    await store.transaction((tx) => store.outbox.enqueue(tx, [message]));
    await expect(
      append({ streamId: 's', expectedVersion: 'noStream', events: events('s', 200), outbox: [message] }),
    ).rejects.toBeInstanceOf(StoreFailureError);
    expect(await store.events.streamVersion(null, 's')).toBe(0);
    expect(await store.events.headPosition()).toBe(0);
  });

  it('commits an appendMany once, each request with its own outcome', async () => {
    let commits = 0;
    const unsubscribe = store.subscribeToChanges(() => {
      commits += 1;
    });
    const outcomes = await store.events.appendMany([
      { streamId: 'a', expectedVersion: 'noStream', events: events('a', 1) },
      { streamId: 'a', expectedVersion: 'noStream', events: events('a', 1) },
      { streamId: 'b', expectedVersion: 'any', events: events('b', 2) },
      { streamId: 'a', expectedVersion: 1, events: events('a', 1) },
    ]);
    unsubscribe();
    expect(commits).toBe(1);
    expect(outcomes[0]).toMatchObject({ nextExpectedVersion: 1 });
    expect(outcomes[1]).toBeInstanceOf(ConcurrencyError);
    expect(outcomes[2]).toMatchObject({ nextExpectedVersion: 2 });
    expect(outcomes[3]).toMatchObject({ nextExpectedVersion: 2 });
    expect(await store.events.headPosition()).toBe(4);
  });

  it("refuses an append outside a transaction made inside one, alone, in the caller's context", async () => {
    const es = createEventStore({ store, registry });
    const deposit = { type: 'test.Deposited' as const, data: { amountCents: 1 } };
    const inside = store.transaction(() => es.appendToStream('s', [deposit], { expectedVersion: 'any' }));
    const outside = es.appendToStream('t', [deposit], { expectedVersion: 'any' });
    await expect(inside).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(outside).resolves.toMatchObject({ nextExpectedVersion: 1 });
    expect(await store.events.streamVersion(null, 's')).toBe(0);
  });

  it('commits an appendMany called before close, and before a later transaction', async () => {
    const appended = store.events.appendMany([
      { streamId: 's', expectedVersion: 'noStream', events: events('s', 1) },
    ]);
    const later = store.transaction(async (tx) => store.events.streamVersion(tx, 's'));
    const closed = store.close();
    expect((await appended)[0]).toMatchObject({ nextExpectedVersion: 1 });
    expect(await later).toBe(1);
    await closed;
    store = await createSqliteStore({ filename: join(directory, `append-${fileCount}.db`) });
    expect(await store.events.streamVersion(null, 's')).toBe(1);
  });

  it('refuses appendMany inside a transaction instead of waiting for itself', async () => {
    const inside = store.transaction(async () => {
      const call = store.events.appendMany([
        { streamId: 's', expectedVersion: 'any', events: events('s', 1) },
      ]);
      expect(call).toBeInstanceOf(Promise);
      return call;
    });
    await expect(inside).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.events.streamVersion(null, 's')).toBe(0);
  });
});
