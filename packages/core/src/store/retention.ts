import { InvalidArgumentError } from '../errors/index.ts';
import type { Store } from './store.ts';

/** How long handled-message receipts and published outbox rows are kept. */
export interface RetentionPolicy {
  /** Keep inbox receipts longer than the transport's longest redelivery window. Default 7 days. */
  inboxMs: number;
  /** Published outbox rows only serve audits and debugging. Default 1 day. */
  publishedOutboxMs: number;
}

export const defaultRetention: RetentionPolicy = {
  inboxMs: 7 * 24 * 3600_000,
  publishedOutboxMs: 24 * 3600_000,
};

/**
 * Deletes inbox receipts and published outbox rows past the policy. A receipt pruned too early
 * lets a late redelivery through, so the inbox window must exceed the transport's redelivery window.
 */
export async function applyRetention(store: Store, policy: Partial<RetentionPolicy> = {}, now = new Date()) {
  const { inboxMs, publishedOutboxMs } = { ...defaultRetention, ...policy };
  for (const [name, value] of Object.entries({ inboxMs, publishedOutboxMs })) {
    if (!Number.isFinite(value) || value < 0)
      throw new InvalidArgumentError(name, `${name} must be a non-negative number of milliseconds`);
  }
  return {
    inboxPruned: await store.inbox.prune(new Date(now.getTime() - inboxMs)),
    outboxPruned: await store.outbox.prunePublished(new Date(now.getTime() - publishedOutboxMs)),
  };
}
