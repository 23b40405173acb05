import { newMessageId } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { type GetStore, rollBack, sleep, uniqueName } from './fixtures.ts';

/** First receipt wins, receipts commit with the handler's transaction, and prune by age. */
export function describeInboxConformance(getStore: GetStore): void {
  describe('InboxStore', () => {
    it('records a message once per consumer within one transaction', async () => {
      const store = getStore();
      const [consumer, messageId] = [uniqueName('consumer'), newMessageId()];
      await store.transaction(async (tx) => {
        expect(await store.inbox.record(tx, consumer, messageId)).toBe(true);
        expect(await store.inbox.record(tx, consumer, messageId)).toBe(false);
        expect(await store.inbox.has(tx, consumer, messageId)).toBe(true);
      });
    });

    it('records a message once per consumer across transactions, independently per consumer', async () => {
      const store = getStore();
      const [consumer, otherConsumer, messageId] = [
        uniqueName('consumer'),
        uniqueName('consumer'),
        newMessageId(),
      ];
      expect(await store.transaction((tx) => store.inbox.record(tx, consumer, messageId))).toBe(true);
      expect(await store.transaction((tx) => store.inbox.record(tx, consumer, messageId))).toBe(false);
      expect(await store.transaction((tx) => store.inbox.record(tx, otherConsumer, messageId))).toBe(true);
      expect(await store.inbox.has(null, consumer, messageId)).toBe(true);
      expect(await store.inbox.has(null, consumer, newMessageId())).toBe(false);
    });

    it('records many messages in one call and returns only the new ones', async () => {
      const store = getStore();
      const consumer = uniqueName('consumer');
      const [seen, fresh, other] = [newMessageId(), newMessageId(), newMessageId()];
      await store.transaction((tx) => store.inbox.record(tx, consumer, seen));
      const recorded = await store.transaction((tx) =>
        store.inbox.recordMany(tx, consumer, [fresh, seen, other, fresh]),
      );
      expect(recorded).toEqual(new Set([fresh, other]));
      expect(await store.transaction((tx) => store.inbox.recordMany(tx, consumer, [fresh, other]))).toEqual(
        new Set(),
      );
      expect(await store.transaction((tx) => store.inbox.recordMany(tx, consumer, []))).toEqual(new Set());
      await rollBack(store, async (tx) => {
        expect(await store.inbox.recordMany(tx, uniqueName('consumer'), [seen])).toEqual(new Set([seen]));
      });
    });

    it('admits arrivals in one call: receipts for new ones, none for keys a dead letter blocks', async () => {
      const store = getStore();
      const consumer = uniqueName('consumer');
      const [blockedKey, openKey] = [uniqueName('key'), uniqueName('key')];
      const [seen, fresh, parked, dead] = [newMessageId(), newMessageId(), newMessageId(), newMessageId()];
      await store.transaction((tx) => store.inbox.record(tx, consumer, seen));
      await store.deadLetters.put(null, {
        consumer,
        messageId: dead,
        orderingKey: blockedKey,
        message: { id: dead },
        reason: 'handler failed',
        attempts: 5,
        status: 'dead',
      });
      const arrivals = [
        { messageId: fresh, orderingKey: openKey },
        { messageId: seen, orderingKey: openKey },
        { messageId: parked, orderingKey: blockedKey },
        { messageId: fresh, orderingKey: openKey },
      ];
      const admission = await store.transaction((tx) => store.inbox.admit(tx, consumer, arrivals));
      expect(admission).toEqual({ recorded: new Set([fresh]), blockedKeys: new Set([blockedKey]) });
      expect(await store.inbox.has(null, consumer, parked)).toBe(false);
      // Another consumer's dead letter blocks nothing here.
      expect(
        await store.transaction((tx) => store.inbox.admit(tx, uniqueName('consumer'), arrivals)),
      ).toEqual({ recorded: new Set([fresh, seen, parked]), blockedKeys: new Set() });
      const [entry] = await store.deadLetters.openForKey(null, consumer, blockedKey);
      await store.deadLetters.setStatus(null, entry!.sequence, 'discarded');
      expect(await store.transaction((tx) => store.inbox.admit(tx, consumer, arrivals))).toEqual({
        recorded: new Set([parked]),
        blockedKeys: new Set(),
      });
      expect(await store.transaction((tx) => store.inbox.admit(tx, consumer, []))).toEqual({
        recorded: new Set(),
        blockedKeys: new Set(),
      });
    });

    it('leaves no receipt when the transaction rolls back', async () => {
      const store = getStore();
      const [consumer, messageId] = [uniqueName('consumer'), newMessageId()];
      await rollBack(store, async (tx) => {
        expect(await store.inbox.record(tx, consumer, messageId)).toBe(true);
      });
      expect(await store.inbox.has(null, consumer, messageId)).toBe(false);
      expect(await store.transaction((tx) => store.inbox.record(tx, consumer, messageId))).toBe(true);
    });

    it('prunes receipts older than the cutoff only', async () => {
      const store = getStore();
      const [consumer, messageId] = [uniqueName('consumer'), newMessageId()];
      await store.transaction((tx) => store.inbox.record(tx, consumer, messageId));
      await sleep(5);
      await store.inbox.prune(new Date(Date.now() - 3_600_000));
      expect(await store.inbox.has(null, consumer, messageId)).toBe(true);
      expect(await store.inbox.prune(new Date(Date.now() + 1_000))).toBeGreaterThanOrEqual(1);
      expect(await store.inbox.has(null, consumer, messageId)).toBe(false);
    });
  });
}
