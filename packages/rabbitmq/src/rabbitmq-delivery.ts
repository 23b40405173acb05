import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery, TransportMessage } from '@causeway/core';

/** A message this consumer holds unacknowledged, which blocks its partition until acked. */
export interface HeldMessage {
  message: TransportMessage;
  /** The attempt of the first local invocation: 1 + the broker's `x-delivery-count`. */
  firstAttempt: number;
}

export interface ProcessOptions {
  held: HeldMessage;
  /** The subscription runtime's invoke: it never rejects, and retries a delivery whose handler threw. */
  handler: (delivery: Delivery) => Promise<void>;
  ackTimeoutMs: number;
  /** Sends basic.ack; a no-op when the channel that delivered the message is gone. */
  acknowledge(): void;
  /** Aborts when the subscription closes or the channel dies: stop invoking the handler. */
  signal: AbortSignal;
  /** Called before each invocation with its attempt number. */
  onAttempt?(attempt: number): void;
}

type Outcome = { kind: 'ack' } | { kind: 'retry'; delayMs: number };

/**
 * Runs the handler until it acks, holding the message meanwhile. A retry (or an emulated ack
 * timeout) re-invokes the handler locally after the delay with attempt + 1; the message is never requeued, because a quorum queue puts a requeued message
 * behind the later messages of its partition and per-key order would break. If this process
 * dies, the broker returns the message to the head of its queue (x-delivery-count + 1).
 */
export async function processHeldMessage(options: ProcessOptions): Promise<void> {
  let attempt = options.held.firstAttempt;
  while (!options.signal.aborted) {
    options.onAttempt?.(attempt);
    const outcome = await invokeOnce(options, attempt);
    if (outcome.kind === 'ack') return;
    await sleep(outcome.delayMs, undefined, { signal: options.signal }).catch(() => {});
    attempt++;
  }
}

/** One invocation of the handler; settles on ack, retry, a throw or the ack timeout. */
function invokeOnce(options: ProcessOptions, attempt: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
      return true;
    };
    // Emulated ack timeout: the broker's consumer_timeout (30 min by default) is far too long.
    const timer = setTimeout(() => settle({ kind: 'retry', delayMs: 0 }), options.ackTimeoutMs);
    const delivery: Delivery = {
      message: options.held.message,
      attempt,
      async ack() {
        // A stale delivery (timed out, already retried) cannot ack: its successor owns the message.
        if (settle({ kind: 'ack' })) options.acknowledge();
      },
      async retry(delayMs) {
        settle({ kind: 'retry', delayMs: Math.max(0, delayMs) });
      },
    };
    void options.handler(delivery);
  });
}
