import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery, SubscribeOptions, Subscription } from '@causeway/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import { createAttemptMemory } from './attempt-memory.ts';
import { createConcurrencyLimit } from './concurrency-limit.ts';
import type { RabbitMqConnection } from './rabbitmq-connection.ts';
import { type HeldMessage, processHeldMessage } from './rabbitmq-delivery.ts';
import { decodeMessage } from './rabbitmq-message.ts';
import { declareGroup, queueName, type TopologyNames } from './rabbitmq-topology.ts';

/** The longest close() waits for running handlers. */
const maxDrainMs = 10_000;

export interface SubscriptionSettings {
  connection: RabbitMqConnection;
  names: TopologyNames;
  options: Required<SubscribeOptions>;
  handler: (delivery: Delivery) => Promise<void>;
}

/** One channel's consumers; `signal` aborts when the channel closes. */
interface Consumers {
  channel: Channel;
  signal: AbortSignal;
}

/**
 * Consumes every partition queue of the group, with prefetch 1 per queue: a partition's next
 * message arrives only after the previous one is acked. Single active consumer makes one
 * subscriber of the group process a partition at a time; the others stand by. If the channel
 * or the connection drops, it consumes again once the connection is back.
 */
export async function startRabbitMqSubscription(settings: SubscriptionSettings): Promise<Subscription> {
  const closing = new AbortController();
  const limit = createConcurrencyLimit(settings.options.maxInFlight);
  const running = new Set<Promise<void>>();
  const attempts = createAttemptMemory();
  let consumers: Consumers | undefined;

  /** Holds the message until the handler acks it (or the channel dies, or the subscription closes). */
  async function processDelivery(
    current: Consumers,
    raw: ConsumeMessage,
    decoded: HeldMessage,
  ): Promise<void> {
    const id = decoded.message.id;
    const held = { ...decoded, firstAttempt: attempts.next(id, decoded.firstAttempt) };
    const signal = AbortSignal.any([closing.signal, current.signal]);
    const release = await limit.acquire(signal);
    if (!release) return;
    try {
      await processHeldMessage({
        held,
        handler: settings.handler,
        ackTimeoutMs: settings.options.ackTimeoutMs,
        signal,
        onAttempt: (attempt) => attempts.record(id, attempt),
        acknowledge: () => {
          attempts.forget(id);
          acknowledge(current, raw);
        },
      });
    } finally {
      release();
    }
  }

  function onMessage(current: Consumers, raw: ConsumeMessage | null): void {
    // null: the broker cancelled the consumer (its queue was deleted); consume again.
    if (raw === null) {
      current.channel.close().catch(() => {});
      return;
    }
    const decoded = decodeMessage(raw);
    if (decoded === undefined) {
      // Not one of ours (no id or no JSON body): the dead-letter exchange keeps it.
      current.channel.nack(raw, false, false);
      return;
    }
    const task = processDelivery(current, raw, decoded);
    running.add(task);
    void task.finally(() => running.delete(task));
  }

  async function consume(): Promise<void> {
    const channel = await settings.connection.createChannel();
    const lost = new AbortController();
    const current: Consumers = { channel, signal: lost.signal };
    let established = false;
    channel.on('error', () => {});
    channel.on('close', () => {
      lost.abort();
      if (established && !closing.signal.aborted) void consumeAgain();
    });
    try {
      await subscribeQueues(channel, settings, (raw) => onMessage(current, raw));
    } catch (error) {
      await channel.close().catch(() => {});
      throw error;
    }
    established = true;
    consumers = current;
    if (closing.signal.aborted) await channel.close().catch(() => {});
  }

  async function consumeAgain(): Promise<void> {
    for (let attempt = 1; !closing.signal.aborted; attempt++) {
      await sleep(Math.min(5000, 100 * 2 ** attempt), undefined, { signal: closing.signal }).catch(() => {});
      if (closing.signal.aborted) return;
      try {
        return await consume();
      } catch {
        // The broker is still away; try again with a longer pause.
      }
    }
  }

  await consume();
  return {
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      const channel = consumers?.channel;
      // Let running handlers finish (and ack) before the channel closes and returns the rest;
      // a hung one is given up on after its ack timeout, as a crash would be.
      const drainMs = Math.min(settings.options.ackTimeoutMs, maxDrainMs);
      const drained = new AbortController();
      const timeout = sleep(drainMs, undefined, { signal: drained.signal }).catch(() => {});
      await Promise.race([Promise.allSettled([...running]), timeout]);
      drained.abort();
      await channel?.close().catch(() => {});
    },
  };
}

async function subscribeQueues(
  channel: Channel,
  settings: SubscriptionSettings,
  onMessage: (raw: ConsumeMessage | null) => void,
): Promise<void> {
  const { group, destinations } = settings.options;
  for (const destination of destinations) await declareGroup(channel, settings.names, { destination, group });
  // Per consumer (global = false): quorum queues do not support a channel-wide limit.
  await channel.prefetch(1, false);
  for (const destination of destinations) {
    for (let partition = 0; partition < settings.names.partitions; partition++) {
      const queue = queueName(settings.names, destination, group, partition);
      await channel.consume(queue, onMessage, { noAck: false });
    }
  }
}

function acknowledge(current: Consumers, raw: ConsumeMessage): void {
  // amqplib does not confirm acks: if this one is lost with the connection, the broker
  // redelivers the message (at least once) and the inbox turns the duplicate into a no-op.
  if (current.signal.aborted) return;
  try {
    current.channel.ack(raw);
  } catch {
    // The channel closed meanwhile: same as a lost ack, the message comes back.
  }
}
