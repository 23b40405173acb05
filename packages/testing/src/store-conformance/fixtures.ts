import {
  type AppendRequest,
  type AppendResult,
  type ClaimedMessage,
  type EventToStore,
  type ExpectedVersion,
  newMessageId,
  type OutboxMessage,
  type Store,
} from '@causeway/core';

/** Gives each describe block the suite's one store, opened in beforeAll. */
export type GetStore = () => Store;

/** A fresh id that is also a valid SQL identifier suffix and stream id. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${newMessageId().replaceAll('-', '')}`;
}

export function newEvent(overrides: Partial<EventToStore> = {}): EventToStore {
  return {
    id: newMessageId(),
    type: 'ConformanceChecked',
    schemaVersion: 1,
    streamId: overrides.streamId ?? 'unused',
    correlationId: null,
    causationId: null,
    occurredAt: new Date().toISOString(),
    metadata: {},
    data: { value: Math.random() },
    ...overrides,
  };
}

export function newEvents(streamId: string, count: number): EventToStore[] {
  return Array.from({ length: count }, (_, index) => newEvent({ streamId, data: { index } }));
}

export function newOutboxMessage(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: newMessageId(),
    destination: 'conformance',
    orderingKey: uniqueName('key'),
    type: 'ConformanceMessage',
    payload: { nested: { list: [1, 'two', null] } },
    ...overrides,
  };
}

/** Appends in a transaction of its own. */
export function appendInTransaction(store: Store, request: AppendRequest): Promise<AppendResult> {
  return store.transaction((tx) => store.events.append(tx, request));
}

export function appendEvents(
  store: Store,
  streamId: string,
  expectedVersion: ExpectedVersion,
  count = 1,
): Promise<AppendResult> {
  return appendInTransaction(store, { streamId, expectedVersion, events: newEvents(streamId, count) });
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

/**
 * Claims (and publishes) everything claimable right now. Tests call it first so earlier tests'
 * leftovers do not come first in sequence order, and afterwards to see what was enqueued.
 */
export async function claimEverything(store: Store, owner = uniqueName('drain')): Promise<ClaimedMessage[]> {
  const claimed: ClaimedMessage[] = [];
  for (;;) {
    const batch = await store.outbox.claimBatch({ owner, limit: 500, leaseMs: 60_000 });
    if (batch.length === 0) return claimed;
    await store.outbox.markPublished(
      owner,
      batch.map((message) => message.id),
    );
    claimed.push(...batch);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}

/** Thrown on purpose to roll a transaction back. */
export class RollbackOnPurpose extends Error {}

export async function rollBack(store: Store, work: Parameters<Store['transaction']>[0]): Promise<void> {
  const error = await rejectionOf(
    store.transaction(async (tx) => {
      await work(tx);
      throw new RollbackOnPurpose('roll back');
    }),
  );
  if (!(error instanceof RollbackOnPurpose)) throw error;
}
