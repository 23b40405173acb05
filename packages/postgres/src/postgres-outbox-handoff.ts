import type { OutboxHandoff, OutboxMessage } from '@causeway/core';

/**
 * The relay's handoff, shared by the outbox's enqueue and the appender's outbox rows: both write
 * the messages they may lease to its owner and hand those over when they commit.
 */
export interface HandoffSlot {
  current: OutboxHandoff | null;
}

/** The messages the statement leased to the handoff (`handedIds`), in their written order. */
export function handedMessages(
  messages: readonly OutboxMessage[],
  handedIds: readonly string[],
): OutboxMessage[] {
  if (handedIds.length === 0) return [];
  const handed = new Set(handedIds);
  return messages.filter((message) => handed.has(message.id));
}
