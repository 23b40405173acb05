import { InvalidArgumentError } from '../errors/index.ts';
import type { Store } from './store.ts';

/** How long handled-message receipts and published outbox rows are kept. */
export interface RetentionPolicy {
  /**
   * Keep inbox receipts at least as long as the transport can still deliver a message: a receipt
   * pruned before its message's last possible redelivery lets that redelivery through. Default 7 days.
   */
  inboxMs: number;
  /** Published outbox rows only serve audits and debugging. Default 1 day. */
  publishedOutboxMs: number;
}

export const defaultRetention: RetentionPolicy = {
  inboxMs: 7 * 24 * 3600_000,
  publishedOutboxMs: 24 * 3600_000,
};

/** What one retention pass deleted. */
export interface RetentionResult {
  inboxPruned: number;
  outboxPruned: number;
}

/** The policy with defaults filled in; throws InvalidArgumentError for a negative or non-finite age. */
export function resolveRetentionPolicy(policy: Partial<RetentionPolicy> = {}): RetentionPolicy {
  const resolved = { ...defaultRetention, ...policy };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0)
      throw new InvalidArgumentError(name, `${name} must be a non-negative number of milliseconds`);
  }
  return resolved;
}

/**
 * Deletes inbox receipts and published outbox rows past the policy. Never deletes an unpublished
 * outbox row (leased or not), nor a receipt younger than `inboxMs`. A receipt pruned too early
 * lets a late redelivery through, so the inbox window must exceed the transport's redelivery window.
 */
export async function applyRetention(
  store: Store,
  policy: Partial<RetentionPolicy> = {},
  now = new Date(),
): Promise<RetentionResult> {
  const { inboxMs, publishedOutboxMs } = resolveRetentionPolicy(policy);
  return {
    inboxPruned: await store.inbox.prune(new Date(now.getTime() - inboxMs)),
    outboxPruned: await store.outbox.prunePublished(new Date(now.getTime() - publishedOutboxMs)),
  };
}

/** One pass of a schedule: when it started and what it deleted. */
export interface RetentionPass extends RetentionResult {
  startedAt: string;
}

export interface RetentionScheduleOptions {
  store: Store;
  policy?: Partial<RetentionPolicy>;
  /** Time from the end of one pass to the start of the next (the first runs one interval after start). */
  intervalMs: number;
  /** After every pass, even one that deleted nothing (log only when it did, to keep logs quiet). */
  onPass?: (pass: RetentionPass) => void;
  /** A failed pass; the next one runs on schedule. */
  onError?: (error: unknown) => void;
}

export interface RetentionSchedule {
  readonly policy: RetentionPolicy;
  readonly intervalMs: number;
  start(): void;
  /** Stops the timer and waits for a running pass. */
  stop(): Promise<void>;
  /** The last pass that completed, or null before the first. */
  lastPass(): RetentionPass | null;
}

const longestTimerMs = 2 ** 31 - 1;

/**
 * Runs `applyRetention` every `intervalMs`, one pass at a time (a slow pass delays the next
 * instead of overlapping it). The timer does not keep the process alive.
 */
export function createRetentionSchedule(options: RetentionScheduleOptions): RetentionSchedule {
  const policy = resolveRetentionPolicy(options.policy);
  const { intervalMs, store } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > longestTimerMs)
    throw new InvalidArgumentError(
      'intervalMs',
      `intervalMs must be a whole number of milliseconds from 1 to ${longestTimerMs}, got ${intervalMs}`,
    );
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let last: RetentionPass | null = null;

  async function runPass(): Promise<void> {
    const startedAt = new Date();
    try {
      last = { startedAt: startedAt.toISOString(), ...(await applyRetention(store, policy, startedAt)) };
      options.onPass?.(last);
    } catch (error) {
      options.onError?.(error);
    }
  }
  function scheduleNext(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runPass().finally(() => {
        running = undefined;
        scheduleNext();
      });
    }, intervalMs);
    timer.unref();
  }

  return {
    policy,
    intervalMs,
    start() {
      if (!stopped) return;
      stopped = false;
      scheduleNext();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    lastPass: () => last,
  };
}
