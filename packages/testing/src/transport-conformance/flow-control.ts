import type { TransportMessage } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import {
  byId,
  interleavedMessages,
  keysInDistinctPartitions,
  settleMs,
  sleep,
  uniqueName,
  waitUntil,
} from './fixtures.ts';
import { DeliveryRecorder } from './recorder.ts';
import type { TransportSuite } from './scenario.ts';

/** Backpressure (maxInFlight) and the lifecycle: closing a subscription, closing the transport. */
export function describeFlowControlConformance(suite: TransportSuite): void {
  describe('flow control and lifecycle', () => {
    it('never has more than maxInFlight unacked deliveries in one subscriber', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const keys = keysInDistinctPartitions(8, suite.partitions);
      const messages = interleavedMessages(scenario.destination, keys, 3);
      await transport.publish(messages);
      let inFlight = 0;
      let highest = 0;
      const recorder = new DeliveryRecorder();
      await transport.subscribe(
        scenario.subscribeOptions({ maxInFlight: 2 }),
        recorder.handler('slow', async (delivery) => {
          inFlight++;
          highest = Math.max(highest, inFlight);
          await sleep(30);
          inFlight--;
          await delivery.ack();
        }),
      );
      await waitUntil(
        () => recorder.acked().length >= messages.length,
        () => `${recorder.acked().length} of ${messages.length} acked`,
      );
      expect(highest).toBeLessThanOrEqual(2);
      expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(messages));
    });

    it('stops delivering once the subscription is closed; the group resumes where it stopped', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const options = scenario.subscribeOptions();
      const before = new DeliveryRecorder();
      const subscription = await transport.subscribe(options, before.handler('before'));
      const key = uniqueName('k');
      const [early, late] = [0, 1].map(() => interleavedMessages(scenario.destination, [key], 5)) as [
        ReturnType<typeof interleavedMessages>,
        ReturnType<typeof interleavedMessages>,
      ];
      await transport.publish(early);
      await waitUntil(
        () => before.settled().length >= early.length,
        () => `${before.settled().length} of ${early.length} acked before closing`,
      );
      await subscription.close();
      await subscription.close();
      await transport.publish(late);
      await sleep(settleMs * 2);
      expect(byId(before.received.map((entry) => entry.message))).toEqual(byId(early));

      const after = new DeliveryRecorder();
      await transport.subscribe(options, after.handler('after'));
      await waitUntil(
        () => after.acked().length >= late.length,
        () => `${after.acked().length} of ${late.length} acked after resubscribing`,
      );
      await sleep(settleMs);
      expect(after.received.map((entry) => entry.message.id)).toEqual(late.map(({ id }) => id));
    });

    it('rejects bad subscribe options with a typed error naming the option', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const good = scenario.subscribeOptions();
      const bad = [
        [{ ...good, group: '' }, 'group'],
        [{ ...good, destinations: [] }, 'destinations'],
        [{ ...good, maxInFlight: 0 }, 'maxInFlight'],
        [{ ...good, maxInFlight: 2.5 }, 'maxInFlight'],
        [{ ...good, ackTimeoutMs: 0 }, 'ackTimeoutMs'],
      ] as const;
      for (const [options, argument] of bad) {
        await expect(
          transport.subscribe(options, async () => {}),
          argument,
        ).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          details: { argument },
        });
      }
    });

    it('close() waits for a running handler, whose ack still counts', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const options = scenario.subscribeOptions();
      const key = uniqueName('k');
      const [first, second] = interleavedMessages(scenario.destination, [key], 2) as [
        TransportMessage,
        TransportMessage,
      ];
      let started = false;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const before = new DeliveryRecorder();
      const subscription = await transport.subscribe(
        options,
        before.handler('before', async (delivery) => {
          started = true;
          await finished;
          await delivery.ack();
        }),
      );
      await transport.publish([first]);
      await waitUntil(
        () => started,
        () => 'the handler did not start',
      );
      let closed = false;
      const closing = subscription.close().then(() => {
        closed = true;
      });
      await sleep(settleMs);
      expect(closed, 'close() returned while a handler was still running').toBe(false);
      finish();
      await closing;
      expect(before.acked().map((entry) => entry.message.id)).toEqual([first.id]);

      // Acked during close: the group's next subscriber starts at the key's next message.
      await transport.publish([second]);
      const after = new DeliveryRecorder();
      await transport.subscribe(options, after.handler('after'));
      await waitUntil(
        () => after.acked().length >= 1,
        () => 'the next message was not delivered after resubscribing',
      );
      await sleep(settleMs);
      expect(after.received.map((entry) => entry.message.id)).toEqual([second.id]);
    });

    it('closes idempotently, with open subscriptions', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const recorder = new DeliveryRecorder();
      await transport.subscribe(scenario.subscribeOptions(), recorder.handler('a'));
      await transport.close();
      await transport.close();
      await Promise.all([transport.close(), transport.close()]);
      expect(typeof transport.name).toBe('string');
    });
  });
}
