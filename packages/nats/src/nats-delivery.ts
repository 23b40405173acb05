import type { Delivery, TransportMessage } from '@causeway/core';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { unlessInterrupted } from './nats-connection-events.ts';
import { toTransportError } from './nats-errors.ts';

/**
 * A JetStream message as a Delivery. Only the first ack() or retry() counts. `attempt` is the
 * server's delivery count, so it survives a consumer crash: another process sees attempt 2.
 */
export function createNatsDelivery(msg: JsMsg, message: TransportMessage, nc: NatsConnection): Delivery {
  let settled = false;
  return {
    message,
    attempt: msg.info.deliveryCount,
    async ack() {
      if (settled) return;
      settled = true;
      // A double ack: resolves once the server has applied the ack to the consumer. A plain ack
      // resolves when the bytes sit in this process's buffer; if the process dies or the
      // connection drops before they leave, the server redelivers (after ack_wait) a message the
      // caller believes finished. With the double ack, a crash of this process after ack()
      // resolved cannot cause that, and a lost ack surfaces as an error instead of a silent stall
      // of the partition. (A crash of the server itself can still forget recent acks, see
      // ack-durability.ts; the inbox absorbs those redeliveries.) If the connection drops first,
      // the answer never comes: fail at once rather than after the request timeout, which would
      // hold the partition that long after the server is back (it redelivers after ack_wait).
      try {
        await unlessInterrupted(nc, `ack message ${message.id}`, msg.ackAck());
      } catch (error) {
        throw toTransportError(`ack message ${message.id}`, error, { messageId: message.id });
      }
    },
    async retry(delayMs) {
      if (settled) return;
      settled = true;
      // The message stays pending while it waits, so max_ack_pending = 1 holds its partition:
      // later messages of the key are not delivered before it.
      msg.nak(Math.max(0, Math.round(delayMs)));
    },
  };
}
