import type { ConsumerLag } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import {
  interleavedMessages,
  keysInDistinctPartitions,
  quietAckTimeoutMs,
  readUntil,
  waitUntil,
} from './fixtures.ts';
import { DeliveryRecorder } from './recorder.ts';
import type { TransportSuite } from './scenario.ts';

/**
 * The optional `consumerLag()`: what a group this instance subscribed to has not acked, counted by
 * the broker, and only such groups. Skipped for a transport without it.
 */
export function describeConsumerLagConformance(suite: TransportSuite): void {
  describe('consumer lag', () => {
    it('reports what a subscribed group has not acked, while stopped or holding it, and 0 once acked', async (context) => {
      const scenario = suite.scenario({ groups: 2 });
      const transport = await scenario.open();
      const consumerLag = transport.consumerLag?.bind(transport);
      if (consumerLag === undefined) return context.skip(`${transport.name} has no consumerLag()`);
      const { group, destination } = scenario;
      const options = { group, destinations: [destination], ackTimeoutMs: quietAckTimeoutMs };
      const only = (pending: number): ConsumerLag[] => [{ group, destination, pending }];
      const show = (lag: ConsumerLag[]) => JSON.stringify(lag);

      // Subscribed once, then stopped: still reported. The second group gets the messages too
      // (declared up front where the broker needs it) but never subscribed here: left out.
      const stopped = await transport.subscribe(options, new DeliveryRecorder().handler('stopped'));
      await stopped.close();
      expect(await consumerLag()).toEqual(only(0));

      const keys = keysInDistinctPartitions(4, suite.partitions);
      const messages = interleavedMessages(destination, keys, 3);
      await transport.publish(messages);
      await readUntil(
        consumerLag,
        (lag) => show(lag) === show(only(messages.length)),
        (lag) => `lag ${show(lag)}, expected ${show(only(messages.length))}`,
      );

      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const recorder = new DeliveryRecorder();
      await transport.subscribe(
        options,
        recorder.handler('holding', async (delivery) => {
          await released;
          await delivery.ack();
        }),
      );
      await waitUntil(
        () => recorder.received.length > 0,
        () => 'nothing was delivered to the resubscribed group',
      );
      // Lag first, then the held count: more deliveries may arrive in between, never fewer.
      const [holding] = await consumerLag();
      const held = new Set(recorder.received.map((entry) => entry.message.id)).size;
      expect(holding?.pending).toBeLessThanOrEqual(messages.length);
      // At most the held deliveries themselves may leave the count before they are acked.
      expect(holding?.pending).toBeGreaterThanOrEqual(messages.length - held);

      release();
      await waitUntil(
        () => new Set(recorder.settled().map((entry) => entry.message.id)).size >= messages.length,
        () => `${recorder.settled().length} of ${messages.length} acked`,
      );
      await readUntil(
        consumerLag,
        (lag) => show(lag) === show(only(0)),
        (lag) => `lag ${show(lag)} after every message was acked, expected ${show(only(0))}`,
      );
    });
  });
}
