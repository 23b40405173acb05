import { newMessageId, partitionOf, type TransportMessage } from '@causeway/core';
import { describeWithService, serviceUrl } from '@causeway/testing';
import {
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createNatsNames } from './nats-names.ts';
import { createNatsProvisioner } from './nats-streams.ts';
import { subscribeToPartitions } from './nats-subscription.ts';
import { deleteStreams, testWarning, uniqueStreamPrefix } from './nats-test-streams.ts';
import { createNatsTransport, defaultDuplicateWindowMs, defaultMaxAgeMs } from './nats-transport.ts';

const servers = serviceUrl('nats');
const streamPrefix = uniqueStreamPrefix();
const names = createNatsNames(streamPrefix);
const partitions = 2;
// Two keys on each partition (alpha and bravo on 1, echo and india on 0): the stall is alpha's.
const keys = ['alpha', 'bravo', 'echo', 'india'];
// Small enough that a test takes seconds: a partition silent for 1 s with messages waiting is stalled.
const ackTimeoutMs = 500;
const stalledPartitionMs = 1_000;

function batch(destination: string, perKey: number): TransportMessage[] {
  return Array.from({ length: perKey }, (_, index) =>
    keys.map((key) => ({
      id: newMessageId(),
      destination,
      orderingKey: key,
      type: 'test.Watched',
      payload: { key, index },
    })),
  ).flat();
}

/** Records every delivery, acks it. */
function recorder() {
  const handled: TransportMessage[] = [];
  return {
    handled,
    handler: async (delivery: { message: TransportMessage; ack(): Promise<void> }) => {
      handled.push(delivery.message);
      await delivery.ack();
    },
  };
}

function recordWarnings() {
  const warnings: string[] = [];
  return {
    warnings,
    warn: (message: string, error?: unknown) => {
      warnings.push(message);
      testWarning(message, error);
    },
  };
}

/** Every published message was handled, and the first delivery of each id came in key order. */
function expectHandledInKeyOrder(
  handled: readonly TransportMessage[],
  published: readonly TransportMessage[],
) {
  for (const key of keys) {
    const firstIds = [...new Set(handled.filter((m) => m.orderingKey === key).map(({ id }) => id))];
    const publishedIds = published.filter((m) => m.orderingKey === key).map(({ id }) => id);
    expect(firstIds, `order of ${key}`).toEqual(publishedIds);
  }
}

const unhandled = (handled: readonly TransportMessage[], published: readonly TransportMessage[]) => {
  const seen = new Set(handled.map(({ id }) => id));
  return published.filter(({ id }) => !seen.has(id)).length;
};

/**
 * A JetStream client whose first pull of `consumerName` takes messages from the server and never
 * hands them on, nor acks them: a pull gone silent while its consumer shows the message pending,
 * the shape of issue 13's stall. The server redelivers into the same pull after each ack wait.
 */
function withholdingFirstPull(js: JetStreamClient, consumerName: string) {
  const withheld: number[] = [];
  let used = false;
  const silence = (pull: ConsumerMessages): ConsumerMessages =>
    new Proxy(pull, {
      get(target, property) {
        if (property !== Symbol.asyncIterator) return Reflect.get(target, property);
        // Yields nothing: drains the real pull until it is closed.
        return () => ({
          async next(): Promise<IteratorResult<JsMsg>> {
            for await (const msg of target) withheld.push(msg.seq);
            return { done: true, value: undefined };
          },
        });
      },
    });
  const consumers = new Proxy(js.consumers, {
    get(target, property) {
      if (property !== 'get') return Reflect.get(target, property);
      return async (stream: string, name: string) => {
        const consumer = await target.get(stream, name);
        if (name !== consumerName || used) return consumer;
        used = true;
        return new Proxy(consumer, {
          get(inner, key) {
            if (key !== 'consume') return Reflect.get(inner, key);
            return async (options: Parameters<typeof inner.consume>[0]) =>
              silence(await inner.consume(options));
          },
        });
      };
    },
  });
  const client = new Proxy(js, {
    get: (target, property) => (property === 'consumers' ? consumers : Reflect.get(target, property)),
  });
  return { client, withheld };
}

describeWithService('nats', 'NATS partition watchdog', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    nc = await connect({ servers });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await deleteStreams(servers, streamPrefix);
  });

  it('restarts a pull that went silent holding a message: every message is handled, in key order', async () => {
    const destination = 'watchdog.withheld';
    const group = 'withheld';
    const stalledConsumer = names.consumerName(group, partitionOf('alpha', partitions));
    const publisher = createNatsTransport({ servers, streamPrefix, partitions, onWarning: testWarning });
    const published = batch(destination, 5);
    await publisher.publish(published);

    const { client, withheld } = withholdingFirstPull(jetstream(nc), stalledConsumer);
    const { warnings, warn } = recordWarnings();
    const { handled, handler } = recorder();
    const provisioner = createNatsProvisioner(async () => jsm, names, {
      duplicateWindowMs: defaultDuplicateWindowMs,
      replicas: 1,
      maxAgeMs: defaultMaxAgeMs,
    });
    const subscription = await subscribeToPartitions(
      { js: client, names, provisioner, partitions, warn, stalledPartitionMs },
      { group, destinations: [destination], ackTimeoutMs },
      handler,
    );
    try {
      await expect.poll(() => unhandled(handled, published), { timeout: 30_000, interval: 100 }).toBe(0);
      // The stall was real: the silent pull took the partition's message (and its redeliveries).
      expect(withheld.length).toBeGreaterThan(0);
      const healthyConsumer = names.consumerName(group, partitionOf('echo', partitions));
      expect(healthyConsumer).not.toBe(stalledConsumer);
      expect(warnings.filter((warning) => warning.includes(healthyConsumer))).toEqual([]);
      expectHandledInKeyOrder(handled, published);
      expect(warnings).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^consumer ${stalledConsumer} of stream ${names.streamName(destination)} delivered nothing to this process for \\d+ ms while messages wait \\(num_pending=\\d+ num_ack_pending=1 num_waiting=\\d+ num_redelivered=\\d+ delivered.stream_seq=\\d+ delivered.consumer_seq=\\d+ ack_floor.stream_seq=0 ack_floor.consumer_seq=0\\); restarting its pull$`,
          ),
        ),
      );
    } finally {
      await subscription.close();
      await publisher.close();
    }
  });

  it('recreates a partition consumer deleted under its running pull, which the client leaves silent', async () => {
    const destination = 'watchdog.deleted';
    const group = 'deleted';
    const deletedConsumer = names.consumerName(group, partitionOf('alpha', partitions));
    const { warnings, warn } = recordWarnings();
    const transport = createNatsTransport({
      servers,
      streamPrefix,
      partitions,
      onWarning: warn,
      stalledPartitionMs,
    });
    const { handled, handler } = recorder();
    const subscription = await transport.subscribe(
      { group, destinations: [destination], ackTimeoutMs },
      handler,
    );
    try {
      const before = batch(destination, 3);
      await transport.publish(before);
      await expect.poll(() => unhandled(handled, before), { timeout: 10_000, interval: 50 }).toBe(0);

      // The client's pull takes the 409 (consumer deleted), then waits in vain for the consumer
      // to come back; it neither ends nor fails, so nothing but the watchdog notices.
      await jsm.consumers.delete(names.streamName(destination), deletedConsumer);
      const after = batch(destination, 3);
      await transport.publish(after);

      const published = [...before, ...after];
      await expect.poll(() => unhandled(handled, published), { timeout: 30_000, interval: 100 }).toBe(0);
      // The consumer was created again from the start of the stream: `before` came twice.
      expectHandledInKeyOrder(handled, published);
      expect(warnings).toContainEqual(
        expect.stringMatching(
          new RegExp(`^consumer ${deletedConsumer} of stream ${names.streamName(destination)} is gone`),
        ),
      );
    } finally {
      await subscription.close();
      await transport.close();
    }
  });

  it('delivers every message, in key order, after a server before 2.11 counted the sequence below zero', async () => {
    const destination = 'watchdog.underflow';
    const group = 'underflow';
    const stream = names.streamName(destination);
    const consumerName = names.consumerName(group, partitionOf('alpha', partitions));
    const { warn } = recordWarnings();
    const transport = createNatsTransport({
      servers,
      streamPrefix,
      partitions,
      onWarning: warn,
      stalledPartitionMs,
    });
    const { handled, handler } = recorder();
    // Creates the stream and the group's consumers, then leaves them to the dying clients below.
    await (await transport.subscribe({ group, destinations: [destination], ackTimeoutMs }, handler)).close();
    const first = batch(destination, 1).filter(({ orderingKey }) => orderingKey === 'alpha');
    await transport.publish(first);

    // Two processes take the message, ask for the next, and die (SIGKILL) before acking. Each
    // redelivery then finds only a dead pull; a server before 2.11 counts back once for each.
    for (let round = 0; round < 2; round++) {
      const dying = await connect({ servers });
      const messages = await (await jetstream(dying).consumers.get(stream, consumerName)).consume({
        max_messages: 1,
      });
      const iterator = messages[Symbol.asyncIterator]();
      await iterator.next();
      void iterator.next().catch(() => {}); // the client's next pull: it waits on the server
      await new Promise((resolve) => setTimeout(resolve, 100));
      (
        dying as unknown as { protocol: { transport: { socket?: { destroy(): void } } } }
      ).protocol.transport.socket?.destroy();
      await new Promise((resolve) => setTimeout(resolve, ackTimeoutMs + 300));
    }
    const { delivered } = await jsm.consumers.info(stream, consumerName);
    const wrapped = delivered.stream_seq > Number.MAX_SAFE_INTEGER;

    const subscription = await transport.subscribe(
      { group, destinations: [destination], ackTimeoutMs },
      handler,
    );
    try {
      const after = batch(destination, 3).filter(({ orderingKey }) => orderingKey === 'alpha');
      await transport.publish(after);
      const published = [...first, ...after];
      await expect.poll(() => unhandled(handled, published), { timeout: 30_000, interval: 100 }).toBe(0);
      const firstSeen = [...new Set(handled.map(({ id }) => id))];
      expect(firstSeen).toEqual(published.map(({ id }) => id));
      console.info(`[watchdog] the server ${wrapped ? 'counted the sequence below zero' : 'kept its count'}`);
    } finally {
      await subscription.close();
      await transport.close();
    }
  });
});
