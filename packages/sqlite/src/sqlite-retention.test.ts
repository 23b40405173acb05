import { setTimeout as sleep } from 'node:timers/promises';
import { applyRetention, createRetentionSchedule, newMessageId, type RetentionPass } from '@causeway/core';
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

describe('retention schedule', () => {
  const until = async (done: () => Promise<boolean>) => {
    for (let tries = 0; tries < 200 && !(await done()); tries++) await sleep(10);
  };

  it('prunes on its timer, reports each pass, and stops', async () => {
    const store = await createSqliteStore({ filename: ':memory:' });
    await store.transaction((tx) => store.inbox.record(tx, 'billing', newMessageId()));
    const passes: RetentionPass[] = [];
    const schedule = createRetentionSchedule({
      store,
      policy: { inboxMs: 0, publishedOutboxMs: 0 },
      intervalMs: 20,
      onPass: (pass) => passes.push(pass),
    });
    expect(schedule.lastPass()).toBeNull();
    schedule.start();
    await until(async () => (await store.inbox.countReceipts()).count === 0);
    expect(await store.inbox.countReceipts()).toEqual({ count: 0, oldestAgeMs: 0 });
    expect(passes[0]).toEqual({ startedAt: expect.any(String), inboxPruned: 1, outboxPruned: 0 });
    expect(schedule.lastPass()).toEqual(passes.at(-1));

    await schedule.stop();
    const passesWhenStopped = passes.length;
    await store.transaction((tx) => store.inbox.record(tx, 'billing', newMessageId()));
    await sleep(100);
    expect(passes.length).toBe(passesWhenStopped);
    expect((await store.inbox.countReceipts()).count).toBe(1);
    await store.close();
  });

  it('refuses an interval or an age it cannot keep', () => {
    const store = {} as Parameters<typeof createRetentionSchedule>[0]['store'];
    expect(() => createRetentionSchedule({ store, intervalMs: 0 })).toThrow(/intervalMs must be/);
    expect(() => createRetentionSchedule({ store, intervalMs: 2 ** 31 })).toThrow(/intervalMs must be/);
    expect(() => createRetentionSchedule({ store, intervalMs: 10, policy: { inboxMs: Number.NaN } })).toThrow(
      /inboxMs must be/,
    );
  });
});
