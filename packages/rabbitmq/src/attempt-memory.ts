/**
 * The last attempt this process made per message id, so that a message the broker gives back
 * (a reconnect, the broker's consumer_timeout) continues its count instead of restarting from
 * x-delivery-count + 1; the consumer runtime's maximum attempts then still applies. Bounded:
 * the oldest entries go first.
 */
export interface AttemptMemory {
  /** The attempt to start at: after both the broker's count and what this process already tried. */
  next(messageId: string, fromBroker: number): number;
  record(messageId: string, attempt: number): void;
  forget(messageId: string): void;
}

export function createAttemptMemory(capacity = 10_000): AttemptMemory {
  const attempts = new Map<string, number>();
  return {
    next(messageId, fromBroker) {
      return Math.max(fromBroker, (attempts.get(messageId) ?? 0) + 1);
    },
    record(messageId, attempt) {
      attempts.delete(messageId);
      attempts.set(messageId, attempt);
      if (attempts.size > capacity) attempts.delete(attempts.keys().next().value!);
    },
    forget(messageId) {
      attempts.delete(messageId);
    },
  };
}
