import { applyRetention, newMessageId, type Store } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { claimEverything, type GetStore, newOutboxMessage, sleep, uniqueName } from './fixtures.ts';

const inAnHour = () => new Date(Date.now() + 3_600_000);

/** Empties the inbox and the published outbox rows (earlier tests' leftovers), so counts start at 0. */
async function clearKeptRows(store: Store): Promise<void> {
  await claimEverything(store);
  await store.inbox.prune(inAnHour());
  await store.outbox.prunePublished(inAnHour());
}

/**
 * What retention keeps and what it may delete: counts of inbox receipts and published outbox rows
 * (so an operator can see retention work), and `applyRetention` never deleting an unpublished
 * outbox row, leased or not, nor a receipt younger than the policy.
 */
export function describeRetentionConformance(getStore: GetStore): void {
  describe('Retention', () => {
    it('counts the receipts it keeps, of every consumer, and the age of the oldest', async () => {
      const store = getStore();
      await clearKeptRows(store);
      expect(await store.inbox.countReceipts()).toEqual({ count: 0, oldestAgeMs: 0 });
      const [consumer, other] = [uniqueName('consumer'), uniqueName('consumer')];
      await store.transaction((tx) => store.inbox.recordMany(tx, consumer, [newMessageId(), newMessageId()]));
      await store.transaction((tx) => store.inbox.record(tx, other, newMessageId()));
      await sleep(60);
      const kept = await store.inbox.countReceipts();
      expect(kept.count).toBe(3);
      expect(kept.oldestAgeMs).toBeGreaterThanOrEqual(50);
      expect(kept.oldestAgeMs).toBeLessThan(60_000);
      await store.inbox.prune(inAnHour());
      expect(await store.inbox.countReceipts()).toEqual({ count: 0, oldestAgeMs: 0 });
    });

    it('counts published outbox rows only, and the age of the oldest', async () => {
      const store = getStore();
      await clearKeptRows(store);
      expect(await store.outbox.countPublished()).toEqual({ count: 0, oldestAgeMs: 0 });
      await store.transaction((tx) =>
        store.outbox.enqueue(tx, [newOutboxMessage(), newOutboxMessage(), newOutboxMessage()]),
      );
      expect((await store.outbox.countPublished()).count).toBe(0);
      const owner = uniqueName('relay');
      const claimed = await store.outbox.claimBatch({ owner, limit: 2, leaseMs: 60_000 });
      expect((await store.outbox.countPublished()).count).toBe(0); // leased is not published
      await store.outbox.markPublished(
        owner,
        claimed.map((message) => message.id),
      );
      await sleep(60);
      const kept = await store.outbox.countPublished();
      expect(kept.count).toBe(2);
      expect(kept.oldestAgeMs).toBeGreaterThanOrEqual(50);
      expect(kept.oldestAgeMs).toBeLessThan(60_000);
      // Another test's lease may have expired meanwhile: whatever this drain publishes counts too.
      const drained = await claimEverything(store);
      expect(drained.length).toBeGreaterThanOrEqual(1);
      expect((await store.outbox.countPublished()).count).toBe(2 + drained.length);
    });

    it('keeps receipts and published rows younger than the policy, and every unpublished row', async () => {
      const store = getStore();
      await clearKeptRows(store);
      const [consumer, handled] = [uniqueName('consumer'), newMessageId()];
      await store.transaction((tx) => store.inbox.record(tx, consumer, handled));
      const [published, leased, waiting] = [newOutboxMessage(), newOutboxMessage(), newOutboxMessage()];
      await store.transaction((tx) => store.outbox.enqueue(tx, [published]));
      await claimEverything(store);
      await store.transaction((tx) => store.outbox.enqueue(tx, [leased, waiting]));
      const relay = uniqueName('relay');
      expect(
        (await store.outbox.claimBatch({ owner: relay, limit: 1, leaseMs: 60_000 })).map((m) => m.id),
      ).toEqual([leased.id]);
      const policy = { inboxMs: 60_000, publishedOutboxMs: 60_000 };
      const at = (offsetMs: number) => new Date(Date.now() + offsetMs);

      // Half the window later: everything is younger than the policy.
      expect(await applyRetention(store, policy, at(30_000))).toEqual({ inboxPruned: 0, outboxPruned: 0 });
      expect(await store.inbox.has(null, consumer, handled)).toBe(true);
      expect((await store.outbox.countPublished()).count).toBe(1);

      // Past the window: the receipt and the published row go, the unpublished rows stay.
      expect(await applyRetention(store, policy, at(90_000))).toEqual({ inboxPruned: 1, outboxPruned: 1 });
      expect(await store.inbox.has(null, consumer, handled)).toBe(false);
      expect(await applyRetention(store, { inboxMs: 0, publishedOutboxMs: 0 }, at(3_600_000))).toEqual({
        inboxPruned: 0,
        outboxPruned: 0,
      });
      await store.outbox.release(relay, [leased.id]);
      expect((await claimEverything(store)).map((message) => message.id)).toEqual(
        expect.arrayContaining([leased.id, waiting.id]),
      );
    });
  });
}
