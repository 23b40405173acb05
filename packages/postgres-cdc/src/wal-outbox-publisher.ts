import { publishTraced, type Transport, type TransportMessage } from '@causeway/core';

interface Waiting {
  readonly messages: readonly TransportMessage[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Publishes what it is given in the order given, one confirmed publish at a time: whatever
 * arrived while a publish was out goes together in the next (up to `maxBatch` messages, a
 * caller's messages never split). When a publish fails, it and everything waiting behind it
 * fail: nothing later may go out before what failed was published.
 */
export function createOrderedPublisher(transport: Transport, maxBatch: number) {
  const waiting: Waiting[] = [];
  let busy = false;

  function takeBatch(): Waiting[] {
    const batch: Waiting[] = [];
    let count = 0;
    while (waiting.length > 0 && (batch.length === 0 || count + waiting[0]!.messages.length <= maxBatch)) {
      const next = waiting.shift()!;
      batch.push(next);
      count += next.messages.length;
    }
    return batch;
  }

  async function publishWaiting(): Promise<void> {
    busy = true;
    while (waiting.length > 0) {
      const batch = takeBatch();
      try {
        await publishTraced(
          transport,
          batch.flatMap((each) => each.messages),
        );
        for (const each of batch) each.resolve();
      } catch (error) {
        for (const each of [...batch, ...waiting.splice(0)]) each.reject(error);
      }
    }
    busy = false;
  }

  return {
    /** Resolves once the broker confirmed these messages (and everything given before them). */
    publish(messages: readonly TransportMessage[]): Promise<void> {
      return new Promise((resolve, reject) => {
        waiting.push({ messages, resolve, reject });
        if (!busy) void publishWaiting();
      });
    },
  };
}
