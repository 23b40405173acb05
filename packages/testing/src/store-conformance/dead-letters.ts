import { newMessageId } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { type GetStore, rollBack, uniqueName } from './fixtures.ts';

function entry(consumer: string, orderingKey: string, status: 'dead' | 'parked', reason = 'handler failed') {
  const messageId = newMessageId();
  return {
    consumer,
    messageId,
    orderingKey,
    message: { id: messageId, payload: { n: 1 } },
    reason,
    attempts: 5,
    status,
  };
}

/** Dead letters: recorded with their reason, a key blocked while open, redrive order by arrival. */
export function describeDeadLetterConformance(getStore: GetStore): void {
  describe('DeadLetterStore', () => {
    it('records a dead message with its reason and blocks its key until it is redriven', async () => {
      const store = getStore();
      const [consumer, key] = [uniqueName('consumer'), uniqueName('key')];
      expect(await store.deadLetters.isKeyBlocked(null, consumer, key)).toBe(false);
      const dead = entry(consumer, key, 'dead', 'Invalid payload: amountCents must be positive');
      await store.deadLetters.put(null, dead);
      await store.deadLetters.put(null, entry(consumer, key, 'parked', 'behind a dead message'));
      expect(await store.deadLetters.isKeyBlocked(null, consumer, key)).toBe(true);
      expect(await store.deadLetters.isKeyBlocked(null, uniqueName('consumer'), key)).toBe(false);
      expect(await store.deadLetters.blockedKeys(null, consumer, [uniqueName('key'), key, key])).toEqual(
        new Set([key]),
      );
      expect(await store.deadLetters.blockedKeys(null, consumer, [])).toEqual(new Set());
      const open = await store.deadLetters.openForKey(null, consumer, key);
      expect(open.map((d) => [d.status, d.reason, d.attempts])).toEqual([
        ['dead', 'Invalid payload: amountCents must be positive', 5],
        ['parked', 'behind a dead message', 5],
      ]);
      expect(open[0]!.message).toEqual(dead.message);
      expect(open[0]!.sequence).toBeLessThan(open[1]!.sequence);
      for (const d of open) await store.deadLetters.setStatus(null, d.sequence, 'redriven');
      expect(await store.deadLetters.isKeyBlocked(null, consumer, key)).toBe(false);
      expect(await store.deadLetters.blockedKeys(null, consumer, [key])).toEqual(new Set());
      expect((await store.deadLetters.get(null, open[0]!.sequence))?.status).toBe('redriven');
    });

    it('updates a repeat of the same message instead of adding a second entry', async () => {
      const store = getStore();
      const consumer = uniqueName('consumer');
      const dead = entry(consumer, uniqueName('key'), 'dead');
      await store.deadLetters.put(null, dead);
      await store.deadLetters.put(null, { ...dead, reason: 'failed again', attempts: 7 });
      const listed = await store.deadLetters.list({ consumer });
      expect(listed.map((d) => [d.reason, d.attempts])).toEqual([['failed again', 7]]);
      expect(await store.deadLetters.list({ consumer, status: 'parked' })).toEqual([]);
    });

    it('commits a dead letter with the transaction that records it', async () => {
      const store = getStore();
      const consumer = uniqueName('consumer');
      await rollBack(store, (tx) => store.deadLetters.put(tx, entry(consumer, uniqueName('key'), 'dead')));
      expect(await store.deadLetters.list({ consumer })).toEqual([]);
    });
  });
}
