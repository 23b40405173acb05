import type { OutboxHandoff, OutboxMessage, Store } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import {
  claimEverything,
  type GetStore,
  newEvent,
  newOutboxMessage,
  rollBack,
  uniqueName,
} from './fixtures.ts';

const longLeaseMs = 60_000;

function ids(messages: ReadonlyArray<{ id: string }>): string[] {
  return messages.map((message) => message.id);
}

/** A handoff that records what it is given; closed again by `close()`. */
function openHandoff(store: Store) {
  const taken: OutboxMessage[][] = [];
  const handoff: OutboxHandoff = {
    owner: uniqueName('handoff'),
    leaseMs: longLeaseMs,
    take: (messages) => void taken.push(messages),
  };
  store.outbox.handOffEnqueued!(handoff);
  return { owner: handoff.owner, taken, close: () => store.outbox.handOffEnqueued!(null) };
}

function enqueue(store: Store, messages: readonly OutboxMessage[]): Promise<void> {
  return store.transaction((tx) => store.outbox.enqueue(tx, messages));
}

/**
 * `OutboxStore.handOffEnqueued`, for the stores that offer it (skipped for the others): messages
 * of free keys are written leased to the relay and handed to it on commit; a key somebody else
 * holds keeps its order through claims.
 */
export function describeOutboxHandoffConformance(getStore: GetStore): void {
  describe('OutboxStore handoff', () => {
    it('hands a committed message of a free key to the relay, leased to it, and nothing rolled back', async (context) => {
      const store = getStore();
      if (!store.outbox.handOffEnqueued) return context.skip();
      await claimEverything(store);
      const handoff = openHandoff(store);
      try {
        const [first, second] = [
          newOutboxMessage({ payload: { n: 1 } }),
          newOutboxMessage({ payload: { n: 2 } }),
        ];
        await rollBack(store, (tx) => store.outbox.enqueue(tx, [newOutboxMessage()]));
        let takenAtCommit = -1;
        await store.transaction(async (tx) => {
          await store.outbox.enqueue(tx, [first, second]);
          tx.onCommit(() => {
            takenAtCommit = handoff.taken.length;
          });
        });
        expect(takenAtCommit).toBe(1);
        expect(handoff.taken).toHaveLength(1);
        const [handed] = handoff.taken;
        expect(handed).toEqual([first, second]);
        // Leased to the handoff: no claim takes it, and only its owner's mark counts.
        expect(ids(await claimEverything(store))).toEqual([]);
        expect(await store.outbox.markPublished(uniqueName('other'), [first.id])).toBe(0);
        expect(await store.outbox.markPublished(handoff.owner, [first.id])).toBe(1);
        // Given back, it waits for a claim like any message, its handoff counted as an attempt.
        await store.outbox.release(handoff.owner, [second.id]);
        const [again] = await store.outbox.claimBatch({
          owner: uniqueName('relay'),
          limit: 10,
          leaseMs: longLeaseMs,
        });
        expect(again).toMatchObject({ id: second.id, attempts: 2 });
      } finally {
        handoff.close();
      }
    });

    it('leaves a message to the claims while an earlier one of its key is unpublished and not the relay’s', async (context) => {
      const store = getStore();
      if (!store.outbox.handOffEnqueued) return context.skip();
      await claimEverything(store);
      const [waiting, leasedElsewhere, ownKey] = [uniqueName('k'), uniqueName('l'), uniqueName('m')];
      const earlier = {
        waiting: newOutboxMessage({ orderingKey: waiting }),
        leasedElsewhere: newOutboxMessage({ orderingKey: leasedElsewhere }),
      };
      await enqueue(store, [earlier.leasedElsewhere]);
      const otherRelay = uniqueName('other');
      expect(
        await store.outbox.claimBatch({ owner: otherRelay, limit: 10, leaseMs: longLeaseMs }),
      ).toHaveLength(1);
      await enqueue(store, [earlier.waiting]);
      const handoff = openHandoff(store);
      try {
        const own = newOutboxMessage({ orderingKey: ownKey });
        await enqueue(store, [own]);
        // The key's earlier message is the relay's own: the later one is handed too.
        const ownLater = newOutboxMessage({ orderingKey: ownKey });
        const later = {
          waiting: newOutboxMessage({ orderingKey: waiting }),
          leasedElsewhere: newOutboxMessage({ orderingKey: leasedElsewhere }),
        };
        await enqueue(store, [later.waiting, ownLater, later.leasedElsewhere]);
        expect(handoff.taken.map(ids)).toEqual([[own.id], [ownLater.id]]);
        // The others keep their key's order through claims.
        const relay = uniqueName('relay');
        expect(ids(await store.outbox.claimBatch({ owner: relay, limit: 10, leaseMs: longLeaseMs }))).toEqual(
          [earlier.waiting.id, later.waiting.id],
        );
        expect(await store.outbox.markPublished(otherRelay, [earlier.leasedElsewhere.id])).toBe(1);
        expect(ids(await store.outbox.claimBatch({ owner: relay, limit: 10, leaseMs: longLeaseMs }))).toEqual(
          [later.leasedElsewhere.id],
        );
      } finally {
        handoff.close();
      }
    });

    it('hands over the outbox rows of appends too, in a group commit and in a caller’s transaction', async (context) => {
      const store = getStore();
      if (!store.outbox.handOffEnqueued) return context.skip();
      await claimEverything(store);
      const [streamA, streamB, held] = [uniqueName('a'), uniqueName('b'), uniqueName('held')];
      // A key waiting for a claim: its later rows must wait too.
      await enqueue(store, [newOutboxMessage({ orderingKey: held })]);
      const handoff = openHandoff(store);
      try {
        const command = newOutboxMessage();
        const heldLater = newOutboxMessage({ orderingKey: held });
        const events = [newEvent({ streamId: streamA }), newEvent({ streamId: streamA })];
        const [result] = await store.events.appendMany([
          {
            streamId: streamA,
            expectedVersion: 'noStream',
            events,
            publishTo: 'elsewhere',
            outbox: [command, heldLater],
          },
        ]);
        if (result === undefined || result instanceof Error) throw result;
        expect(handoff.taken).toHaveLength(1);
        expect(handoff.taken[0]).toEqual([
          command,
          ...events.map((event, index) => ({
            id: event.id,
            destination: 'elsewhere',
            orderingKey: streamA,
            type: event.type,
            payload: { ...event, ...result.positions[index]! },
          })),
        ]);
        const inTransaction = newEvent({ streamId: streamB });
        await store.transaction(async (tx) => {
          await store.events.append(tx, {
            streamId: streamB,
            expectedVersion: 'noStream',
            events: [inTransaction],
            publishTo: 'elsewhere',
          });
          expect(handoff.taken).toHaveLength(1); // not before the commit
        });
        expect(handoff.taken.map(ids)).toEqual([ids(handoff.taken[0]!), [inTransaction.id]]);
        // The held key's rows go out through claims, in order; nothing else is left to claim.
        const claimed = await store.outbox.claimBatch({
          owner: uniqueName('relay'),
          limit: 10,
          leaseMs: longLeaseMs,
        });
        expect(claimed.map((message) => message.orderingKey)).toEqual([held, held]);
        expect(claimed.at(-1)!.id).toBe(heldLater.id);
        // What the relay is handed is what a claim of the same rows reads.
        await store.outbox.release(handoff.owner, ids(handoff.taken[0]!));
        const reclaimed = await store.outbox.claimBatch({
          owner: uniqueName('relay'),
          limit: 10,
          leaseMs: longLeaseMs,
        });
        expect(
          reclaimed.map(({ id, destination, orderingKey, type, payload }) => ({
            id,
            destination,
            orderingKey,
            type,
            payload,
          })),
        ).toEqual(handoff.taken[0]);
      } finally {
        handoff.close();
      }
    });

    it('hands nothing over once the handoff is closed', async (context) => {
      const store = getStore();
      if (!store.outbox.handOffEnqueued) return context.skip();
      await claimEverything(store);
      const handoff = openHandoff(store);
      handoff.close();
      const message = newOutboxMessage();
      await enqueue(store, [message]);
      expect(handoff.taken).toEqual([]);
      expect(ids(await claimEverything(store))).toEqual([message.id]);
    });
  });
}
