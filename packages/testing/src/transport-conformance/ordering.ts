import { describe, expect, it } from 'vitest';
import { byId, interleavedMessages, settleMs, sleep, uniqueName, waitUntil } from './fixtures.ts';
import { DeliveryRecorder } from './recorder.ts';
import type { TransportSuite } from './scenario.ts';

const keyCount = 5;
const perKey = 40;

/** Per-key order within a group while two consumers (separate instances) compete for the work. */
export function describeOrderingConformance(suite: TransportSuite): void {
  describe('ordering', () => {
    it('handles each key in publish order, exactly once, across two competing consumers', async () => {
      const scenario = suite.scenario();
      const instances = [await scenario.open(), await scenario.open()];
      const recorder = new DeliveryRecorder();
      for (const [index, transport] of instances.entries()) {
        await transport.subscribe(
          scenario.subscribeOptions(),
          recorder.handler(`consumer-${index}`, async (delivery) => {
            await sleep(Math.random() * 5);
            await delivery.ack();
          }),
        );
      }
      const keys = Array.from({ length: keyCount }, () => uniqueName('k'));
      const messages = interleavedMessages(scenario.destination, keys, perKey);
      for (let start = 0; start < messages.length; start += 25) {
        await instances[start % 2]!.publish(messages.slice(start, start + 25));
      }
      await waitUntil(
        () => recorder.acked().length >= messages.length,
        () => `${recorder.acked().length} of ${messages.length} acked`,
        30_000,
      );
      await sleep(settleMs);

      expect(recorder.violations).toEqual([]);
      const ackedByKey = recorder.ackedIdsByKey();
      for (const key of keys) {
        const published = messages.filter((message) => message.orderingKey === key).map(({ id }) => id);
        expect(ackedByKey.get(key), `order of key ${key}`).toEqual(published);
      }
      expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(messages));
      const perConsumer = new Set(recorder.received.map((entry) => entry.subscriber));
      // With few partitions one consumer may hold every key's partition; that is allowed.
      expect(perConsumer.size).toBeGreaterThanOrEqual(1);
    }, 60_000);
  });
}
