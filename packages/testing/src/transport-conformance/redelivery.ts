import type { Delivery } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import {
  earlySlackMs,
  keysInDistinctPartitions,
  newTransportMessage,
  redeliveryAckTimeoutMs,
  waitUntil,
} from './fixtures.ts';
import { DeliveryRecorder, type Received } from './recorder.ts';
import type { Scenario, TransportSuite } from './scenario.ts';

/** Generous bound for a redelivery that should come after one ack timeout. */
const redeliveryDeadlineMs = 3 * redeliveryAckTimeoutMs + 2_000;

/** The first message of `blockedKey` fails once (as `fail` decides); everything else is acked. */
function blockedKeyFixture(scenario: Scenario, keys: readonly string[]) {
  const [blockedKey, otherKey] = keys as [string, string | undefined];
  const first = newTransportMessage(scenario.destination, blockedKey, { index: 0 });
  const successor = newTransportMessage(scenario.destination, blockedKey, { index: 1 });
  const other = otherKey === undefined ? [] : [newTransportMessage(scenario.destination, otherKey)];
  return { first, successor, other, messages: [first, ...other, successor] };
}

function expectSuccessorWaited(recorder: DeliveryRecorder, firstId: string, successorId: string): Received {
  const redelivered = recorder.of(firstId).find((entry) => entry.attempt === 2);
  expect(redelivered, 'the failed message was redelivered with attempt 2').toBeDefined();
  const successor = recorder.of(successorId);
  expect(successor.length).toBeGreaterThan(0);
  expect(successor[0]!.receivedAt, 'successor waited for the redelivery').toBeGreaterThanOrEqual(
    redelivered!.ackedAt!,
  );
  expect(recorder.violations).toEqual([]);
  return redelivered!;
}

/** Unacked, thrown, retried and crashed deliveries come back; the key's successors wait. */
export function describeRedeliveryConformance(suite: TransportSuite): void {
  describe('redelivery', () => {
    async function runFailingFirst(fail: (delivery: Delivery) => Promise<void>) {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const fixture = blockedKeyFixture(scenario, keysInDistinctPartitions(2, suite.partitions));
      const recorder = new DeliveryRecorder();
      await transport.subscribe(
        scenario.subscribeOptions({ ackTimeoutMs: redeliveryAckTimeoutMs, maxInFlight: 4 }),
        recorder.handler('a', async (delivery) => {
          if (delivery.message.id === fixture.first.id && delivery.attempt === 1) return fail(delivery);
          await delivery.ack();
        }),
      );
      await transport.publish(fixture.messages);
      await waitUntil(
        () => recorder.of(fixture.successor.id).some((entry) => entry.ackedAt !== null),
        () => `successor not acked; deliveries: ${recorder.received.map((e) => e.attempt)}`,
        redeliveryDeadlineMs + 2_000,
      );
      const firstDelivery = recorder.of(fixture.first.id)[0]!;
      const redelivered = expectSuccessorWaited(recorder, fixture.first.id, fixture.successor.id);
      for (const message of fixture.other) {
        const [delivery] = recorder.of(message.id);
        expect(delivery?.receivedAt, 'other keys did not wait').toBeLessThan(redelivered.receivedAt);
      }
      return { firstDelivery, redelivered };
    }

    it('redelivers an unacked message after ackTimeoutMs with attempt 2; only its key waits', async () => {
      const { firstDelivery, redelivered } = await runFailingFirst(async () => {});
      const waited = redelivered.receivedAt - firstDelivery.receivedAt;
      expect(waited).toBeGreaterThanOrEqual(redeliveryAckTimeoutMs - earlySlackMs);
      expect(waited).toBeLessThan(redeliveryDeadlineMs);
    });

    it('redelivers a message whose handler threw, with attempt 2; only its key waits', async () => {
      await runFailingFirst(async () => {
        throw new Error('handler failed on purpose (conformance test)');
      });
    });

    it('retry(delayMs) redelivers no sooner than delayMs, with attempt 2; only its key waits', async () => {
      const delayMs = 400;
      let retriedAt = 0;
      const { redelivered } = await runFailingFirst(async (delivery) => {
        retriedAt = performance.now();
        await delivery.retry(delayMs);
      });
      const waited = redelivered.receivedAt - retriedAt;
      expect(waited).toBeGreaterThanOrEqual(delayMs - earlySlackMs);
      expect(waited).toBeLessThan(delayMs + redeliveryDeadlineMs);
    });

    it('redelivers to another consumer of the group when the first one crashes before acking', async () => {
      const scenario = suite.scenario();
      const crashing = await scenario.open();
      const survivor = await scenario.open();
      const recorder = new DeliveryRecorder();
      const options = scenario.subscribeOptions({ ackTimeoutMs: redeliveryAckTimeoutMs });
      // The doomed consumer never acks: it "crashes" as soon as it holds the message.
      await crashing.subscribe(
        options,
        recorder.handler('crashing', async () => {}),
      );
      const [key] = keysInDistinctPartitions(1, suite.partitions) as [string];
      const message = newTransportMessage(scenario.destination, key);
      await crashing.publish([message]);
      await waitUntil(
        () => recorder.received.length > 0,
        () => 'the first consumer never got the message',
      );
      await survivor.subscribe(options, recorder.handler('survivor'));
      const crashedAt = performance.now();
      await crashing.close();
      await waitUntil(
        () => recorder.received.some((entry) => entry.subscriber === 'survivor' && entry.ackedAt !== null),
        () => 'the surviving consumer never got the message',
        redeliveryDeadlineMs,
      );
      const taken = recorder.received.find((entry) => entry.subscriber === 'survivor')!;
      expect(taken.message).toEqual(message);
      expect(taken.attempt).toBeGreaterThanOrEqual(2);
      expect(taken.receivedAt - crashedAt).toBeLessThan(redeliveryDeadlineMs);
    });
  });
}
