import { newMessageId, partitionOf, type TransportMessage } from '@causeway/core';

/** Ack timeout for tests that expect no redelivery: long enough to never fire under load. */
export const quietAckTimeoutMs = 2_000;
/** Ack timeout for tests that wait for a redelivery. */
export const redeliveryAckTimeoutMs = 1_000;
/** How long a test waits for deliveries it expects before it fails. */
export const deliveryTimeoutMs = 10_000;
/** How long a test keeps listening after the expected deliveries, to catch duplicates. */
export const settleMs = 300;
/** Timers and polling may fire a little early relative to the test's own clock. */
export const earlySlackMs = 50;

/** A fresh name usable as a destination, group or key on every broker (letters, digits, `_`). */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${newMessageId().replaceAll('-', '').slice(-12)}`;
}

export function newTransportMessage(
  destination: string,
  orderingKey: string,
  payload: Record<string, unknown> = {},
): TransportMessage {
  return { id: newMessageId(), destination, orderingKey, type: 'conformance.Checked', payload };
}

/** `perKey` messages for each key, interleaved (k0#0, k1#0, ..., k0#1, ...); payload = { key, index }. */
export function interleavedMessages(
  destination: string,
  keys: readonly string[],
  perKey: number,
): TransportMessage[] {
  const messages: TransportMessage[] = [];
  for (let index = 0; index < perKey; index++) {
    for (const key of keys) messages.push(newTransportMessage(destination, key, { key, index }));
  }
  return messages;
}

/**
 * Fresh keys that fall in pairwise different partitions, so that one key's blocked message cannot
 * hold up another key. With fewer partitions than `count`, returns one key per partition.
 */
export function keysInDistinctPartitions(count: number, partitions: number): string[] {
  const taken = new Map<number, string>();
  const wanted = Math.min(count, partitions);
  while (taken.size < wanted) {
    const key = uniqueName('key');
    const partition = partitionOf(key, partitions);
    if (!taken.has(partition)) taken.set(partition, key);
  }
  return [...taken.values()];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 5 ms; fails with `describe()` when it is still false after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  describe: () => string,
  timeoutMs = deliveryTimeoutMs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting: ${describe()}`);
    await sleep(5);
  }
}

/**
 * Reads until `isDone` holds for what `read` resolved to, and resolves to that; fails with the last
 * value read when it still does not after `timeoutMs`. For states a broker reaches eventually.
 */
export async function readUntil<T>(
  read: () => Promise<T>,
  isDone: (value: T) => boolean,
  describe: (last: T) => string,
  timeoutMs = deliveryTimeoutMs,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting: ${describe(value)}`);
    await sleep(20);
  }
}

export function byId<T extends { id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.id.localeCompare(b.id));
}
