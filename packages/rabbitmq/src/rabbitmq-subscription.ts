import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription, SubscriptionRuntime } from '@causeway/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import { createAttemptMemory } from './attempt-memory.ts';
import type { RabbitMqConnection } from './rabbitmq-connection.ts';
import { type HeldMessage, processHeldMessage } from './rabbitmq-delivery.ts';
import { decodeMessage } from './rabbitmq-message.ts';
import { declareGroup, queueName, type TopologyNames } from './rabbitmq-topology.ts';

export interface SubscriptionSettings {
  connection: RabbitMqConnection;
  names: TopologyNames;
  /** The checked options, the handler slots, and the drain on close. */
  runtime: SubscriptionRuntime;
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
  const { runtime } = settings;
  const closing = runtime.closing;
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
    // Without a slot (closing, or the channel died) the message stays unacked: the broker gives it back.
    const release = await runtime.acquireSlot(current.signal);
    if (!release) return;
    const signal = AbortSignal.any([closing, current.signal]);
    try {
      await processHeldMessage({
        held,
        handler: runtime.invoke,
        ackTimeoutMs: runtime.settings.ackTimeoutMs,
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
    void processDelivery(current, raw, decoded);
  }

  async function consume(): Promise<void> {
    const channel = await settings.connection.createChannel();
    const lost = new AbortController();
    const current: Consumers = { channel, signal: lost.signal };
    let established = false;
    channel.on('error', () => {});
    channel.on('close', () => {
      lost.abort();
      if (established && !closing.aborted) void consumeAgain();
    });
    try {
      await subscribeQueues(channel, settings, (raw) => onMessage(current, raw));
    } catch (error) {
      await channel.close().catch(() => {});
      throw error;
    }
    established = true;
    consumers = current;
    if (closing.aborted) await channel.close().catch(() => {});
  }

  async function consumeAgain(): Promise<void> {
    for (let attempt = 1; !closing.aborted; attempt++) {
      await sleep(Math.min(5000, 100 * 2 ** attempt), undefined, { signal: closing }).catch(() => {});
      if (closing.aborted) return;
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
      if (closing.aborted) return;
      // Running handlers finish (and ack) before the channel closes and returns the rest.
      await runtime.close();
      await consumers?.channel.close().catch(() => {});
    },
  };
}

async function subscribeQueues(
  channel: Channel,
  settings: SubscriptionSettings,
  onMessage: (raw: ConsumeMessage | null) => void,
): Promise<void> {
  const { group, destinations } = settings.runtime.settings;
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
