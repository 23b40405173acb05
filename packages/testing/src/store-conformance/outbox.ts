import type { OutboxMessage, Store } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { claimEverything, type GetStore, newOutboxMessage, rollBack, sleep, uniqueName } from './fixtures.ts';

const longLeaseMs = 60_000;

function enqueue(store: Store, messages: readonly OutboxMessage[]): Promise<void> {
  return store.transaction((tx) => store.outbox.enqueue(tx, messages));
}

function ids(messages: ReadonlyArray<{ id: string }>): string[] {
  return messages.map((message) => message.id);
}

/** Transactional enqueue, exclusive leases, per-key order, lease expiry, backlog and pruning. */
export function describeOutboxConformance(getStore: GetStore): void {
  describe('OutboxStore', () => {
    it('keeps nothing that was enqueued in a rolled-back transaction', async () => {
      const store = getStore();
      await claimEverything(store);
      const message = newOutboxMessage();
      await rollBack(store, (tx) => store.outbox.enqueue(tx, [message]));
      expect(ids(await claimEverything(store))).not.toContain(message.id);
    });

    it('claims in sequence order with increasing sequences and the enqueued content', async () => {
      const store = getStore();
      await claimEverything(store);
      const messages = Array.from({ length: 5 }, (_, index) => newOutboxMessage({ payload: { index } }));
      await enqueue(store, messages.slice(0, 3));
      await enqueue(store, messages.slice(3));
      const owner = uniqueName('owner');
      const claimed = await store.outbox.claimBatch({ owner, limit: 4, leaseMs: longLeaseMs });
      expect(ids(claimed)).toEqual(ids(messages.slice(0, 4)));
      expect(claimed[0]).toMatchObject(messages[0]!);
      expect(Date.parse(claimed[0]!.createdAt)).not.toBeNaN();
      const sequences = claimed.map((message) => message.sequence);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(4);
      expect(await store.outbox.markPublished(owner, ids(claimed))).toBe(4);
      expect(ids(await claimEverything(store))).toEqual([messages[4]!.id]);
    });

    it('never gives the same message to two owners claiming at once', async () => {
      const store = getStore();
      await claimEverything(store);
      const messages = Array.from({ length: 20 }, () => newOutboxMessage());
      await enqueue(store, messages);
      const [a, b] = await Promise.all([
        store.outbox.claimBatch({ owner: uniqueName('a'), limit: 12, leaseMs: longLeaseMs }),
        store.outbox.claimBatch({ owner: uniqueName('b'), limit: 12, leaseMs: longLeaseMs }),
      ]);
      const claimedByA = new Set(ids(a));
      expect(ids(b).filter((id) => claimedByA.has(id))).toEqual([]);
      expect(new Set([...ids(a), ...ids(b)])).toEqual(new Set(ids(messages)));
    });

    it('gives one ordering key to one owner at a time, even when both claim at once', async () => {
      const store = getStore();
      await claimEverything(store);
      const orderingKey = uniqueName('key');
      await enqueue(
        store,
        Array.from({ length: 6 }, () => newOutboxMessage({ orderingKey })),
      );
      const [a, b] = await Promise.all([
        store.outbox.claimBatch({ owner: uniqueName('a'), limit: 1, leaseMs: longLeaseMs }),
        store.outbox.claimBatch({ owner: uniqueName('b'), limit: 10, leaseMs: longLeaseMs }),
      ]);
      expect([a.length, b.length].filter((length) => length > 0)).toHaveLength(1);
    });

    it('holds back a key’s later messages while another owner leases an earlier one', async () => {
      const store = getStore();
      await claimEverything(store);
      const [keyK, keyL] = [uniqueName('k'), uniqueName('l')];
      const first = newOutboxMessage({ orderingKey: keyK });
      const second = newOutboxMessage({ orderingKey: keyK });
      const other = newOutboxMessage({ orderingKey: keyL });
      await enqueue(store, [first, second, other]);
      const [ownerA, ownerB] = [uniqueName('a'), uniqueName('b')];
      expect(ids(await store.outbox.claimBatch({ owner: ownerA, limit: 1, leaseMs: longLeaseMs }))).toEqual([
        first.id,
      ]);
      expect(ids(await store.outbox.claimBatch({ owner: ownerB, limit: 10, leaseMs: longLeaseMs }))).toEqual([
        other.id,
      ]);
      expect(await store.outbox.markPublished(ownerA, [first.id])).toBe(1);
      expect(ids(await store.outbox.claimBatch({ owner: ownerB, limit: 10, leaseMs: longLeaseMs }))).toEqual([
        second.id,
      ]);
    });

    it('lets another owner take over an expired lease, counting the attempt', async () => {
      const store = getStore();
      await claimEverything(store);
      const message = newOutboxMessage();
      await enqueue(store, [message]);
      const [ownerA, ownerB] = [uniqueName('a'), uniqueName('b')];
      const [claimedByA] = await store.outbox.claimBatch({ owner: ownerA, limit: 10, leaseMs: 500 });
      expect(claimedByA?.id).toBe(message.id);
      expect(await store.outbox.claimBatch({ owner: ownerB, limit: 10, leaseMs: longLeaseMs })).toEqual([]);
      await sleep(700);
      const [claimedByB] = await store.outbox.claimBatch({ owner: ownerB, limit: 10, leaseMs: longLeaseMs });
      expect(claimedByB?.id).toBe(message.id);
      expect(claimedByB?.attempts).toBe(claimedByA!.attempts + 1);
      expect(await store.outbox.markPublished(ownerA, [message.id])).toBe(0);
      expect(await store.outbox.markPublished(ownerB, [message.id])).toBe(1);
      expect(ids(await claimEverything(store))).not.toContain(message.id);
    });

    it('makes released messages claimable again, keeping the attempts', async () => {
      const store = getStore();
      await claimEverything(store);
      const message = newOutboxMessage();
      await enqueue(store, [message]);
      const [ownerA, ownerB] = [uniqueName('a'), uniqueName('b')];
      const [claimed] = await store.outbox.claimBatch({ owner: ownerA, limit: 10, leaseMs: longLeaseMs });
      await store.outbox.release(ownerB, [message.id]);
      expect(await store.outbox.claimBatch({ owner: ownerB, limit: 10, leaseMs: longLeaseMs })).toEqual([]);
      await store.outbox.release(ownerA, [message.id]);
      const [again] = await store.outbox.claimBatch({ owner: ownerB, limit: 10, leaseMs: longLeaseMs });
      expect(again?.id).toBe(message.id);
      expect(again?.attempts).toBe(claimed!.attempts + 1);
      expect(await store.outbox.markPublished(ownerB, [message.id])).toBe(1);
    });

    describeBacklogAndPruning(getStore);
  });
}

function describeBacklogAndPruning(getStore: GetStore): void {
  it('counts the unpublished backlog and the age of its oldest message', async () => {
    const store = getStore();
    await claimEverything(store);
    const before = await store.outbox.backlog();
    const messages = [newOutboxMessage(), newOutboxMessage(), newOutboxMessage()];
    await enqueue(store, messages);
    await sleep(60);
    const backlog = await store.outbox.backlog();
    expect(backlog.count).toBe(before.count + 3);
    expect(backlog.oldestAgeMs).toBeGreaterThanOrEqual(50);
    await claimEverything(store);
    expect((await store.outbox.backlog()).count).toBe(before.count);
  });

  it('prunes only published messages older than the cutoff', async () => {
    const store = getStore();
    await claimEverything(store);
    const published = newOutboxMessage();
    const pending = newOutboxMessage();
    const hourAgo = () => new Date(Date.now() - 3_600_000);
    await store.outbox.prunePublished(hourAgo()); // leftovers of earlier runs on a reused database
    await enqueue(store, [published]);
    await claimEverything(store);
    await enqueue(store, [pending]);
    expect(await store.outbox.prunePublished(hourAgo())).toBe(0);
    expect(await store.outbox.prunePublished(new Date(Date.now() + 1_000))).toBeGreaterThanOrEqual(1);
    expect(await store.outbox.prunePublished(new Date(Date.now() + 1_000))).toBe(0);
    expect(ids(await claimEverything(store))).toEqual([pending.id]);
  });
}
