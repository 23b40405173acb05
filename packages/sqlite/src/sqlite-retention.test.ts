import { applyRetention, newMessageId } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from './index.ts';

describe('retention policy', () => {
  it('prunes receipts and published rows past the window, keeps the rest', async () => {
    const store = await createSqliteStore({ filename: ':memory:' });
    const handled = newMessageId();
    await store.transaction((tx) => store.inbox.record(tx, 'billing', handled));
    const message = { id: newMessageId(), destination: 'x', orderingKey: 'k', type: 't', payload: {} };
    await store.transaction((tx) => store.outbox.enqueue(tx, [message]));
    await store.outbox.claimBatch({ owner: 'relay', limit: 10, leaseMs: 10_000 });
    await store.outbox.markPublished('relay', [message.id]);

    expect(await applyRetention(store)).toEqual({ inboxPruned: 0, outboxPruned: 0 });
    expect(await store.inbox.has(null, 'billing', handled)).toBe(true);
    const later = new Date(Date.now() + 8 * 24 * 3600_000);
    expect(await applyRetention(store, {}, later)).toEqual({ inboxPruned: 1, outboxPruned: 1 });
    expect(await store.inbox.has(null, 'billing', handled)).toBe(false);
    await expect(applyRetention(store, { inboxMs: -1 })).rejects.toThrow(/inboxMs must be/);
    await store.close();
  });
});
