import { describe, expect, it } from 'vitest';
import {
  byId,
  interleavedMessages,
  newTransportMessage,
  quietAckTimeoutMs,
  settleMs,
  sleep,
  uniqueName,
  waitUntil,
} from './fixtures.ts';
import { DeliveryRecorder } from './recorder.ts';
import type { TransportSuite } from './scenario.ts';

/** Publish and subscribe: content intact, once each, durable before anyone listens, fan-out. */
export function describeDeliveryConformance(suite: TransportSuite): void {
  describe('delivery', () => {
    it('delivers every published message once, intact, with attempt 1', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const recorder = new DeliveryRecorder();
      await transport.subscribe(scenario.subscribeOptions(), recorder.handler('a'));
      const messages = interleavedMessages(scenario.destination, [uniqueName('k'), uniqueName('k')], 4);
      messages.push(
        newTransportMessage(scenario.destination, 'ключ/ü 🚚', {
          nested: { list: [1, 'two', null, true], text: 'ünïcødé 🚚', empty: {} },
        }),
      );
      await transport.publish([]);
      await transport.publish(messages);
      await waitUntil(
        () => recorder.received.length >= messages.length,
        () => `${recorder.received.length} of ${messages.length} messages delivered`,
      );
      await sleep(settleMs);
      expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(messages));
      expect(recorder.received.map((entry) => entry.attempt)).toEqual(messages.map(() => 1));
      expect(recorder.violations).toEqual([]);
    });

    it('delivers messages published before the group first subscribed', async () => {
      const scenario = suite.scenario();
      const transport = await scenario.open();
      const messages = interleavedMessages(scenario.destination, [uniqueName('k'), uniqueName('k')], 5);
      await transport.publish(messages);
      await sleep(100);
      const recorder = new DeliveryRecorder();
      await transport.subscribe(scenario.subscribeOptions(), recorder.handler('late'));
      await waitUntil(
        () => recorder.received.length >= messages.length,
        () => `${recorder.received.length} of ${messages.length} early messages delivered`,
      );
      await sleep(settleMs);
      expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(messages));
    });

    it('holds published messages durably: a new transport instance delivers them', async () => {
      const scenario = suite.scenario();
      const publisher = await scenario.open();
      const messages = interleavedMessages(scenario.destination, [uniqueName('k'), uniqueName('k')], 10);
      await publisher.publish(messages.slice(0, 10));
      await publisher.publish(messages.slice(10));
      await publisher.close();
      const consumer = await scenario.open();
      const recorder = new DeliveryRecorder();
      await consumer.subscribe(scenario.subscribeOptions(), recorder.handler('next'));
      await waitUntil(
        () => recorder.received.length >= messages.length,
        () => `${recorder.received.length} of ${messages.length} messages survived the publisher's close`,
      );
      expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(messages));
    });

    it('gives every message to each of two groups (fan-out)', async () => {
      const scenario = suite.scenario({ groups: 2 });
      const transport = await scenario.open();
      const recorders = scenario.groups.map(() => new DeliveryRecorder());
      for (const [index, group] of scenario.groups.entries()) {
        await transport.subscribe(scenario.subscribeOptions({ group }), recorders[index]!.handler(group));
      }
      const messages = interleavedMessages(scenario.destination, [uniqueName('k'), uniqueName('k')], 6);
      await transport.publish(messages);
      await waitUntil(
        () => recorders.every((recorder) => recorder.received.length >= messages.length),
        () => `groups got ${recorders.map((recorder) => recorder.received.length)} of ${messages.length}`,
      );
      await sleep(settleMs);
      for (const recorder of recorders) {
        expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(messages));
      }
    });

    it('delivers from every destination a subscription lists, and only from those', async () => {
      const scenario = suite.scenario({ destinations: 3 });
      const transport = await scenario.open();
      const [first, second, unlisted] = scenario.destinations as [string, string, string];
      const recorder = new DeliveryRecorder();
      await transport.subscribe(
        { group: scenario.group, destinations: [first, second], ackTimeoutMs: quietAckTimeoutMs },
        recorder.handler('a'),
      );
      const listed = [first, second].map((destination) => newTransportMessage(destination, uniqueName('k')));
      await transport.publish([...listed, newTransportMessage(unlisted, uniqueName('k'))]);
      await waitUntil(
        () => recorder.received.length >= listed.length,
        () => `${recorder.received.length} of ${listed.length} delivered`,
      );
      await sleep(settleMs);
      expect(byId(recorder.received.map((entry) => entry.message))).toEqual(byId(listed));
    });
  });
}
