import type { TransportMessage } from '@causeway/core';
import type { ConsumeMessage } from 'amqplib';
import type { HeldMessage } from './rabbitmq-delivery.ts';

/** The headers a published message carries besides its AMQP properties. */
export const orderingKeyHeader = 'cw-ordering-key';
export const destinationHeader = 'cw-destination';

/** The AMQP properties and headers of a transport message (the body is its JSON payload). */
export function encodeProperties(message: TransportMessage) {
  return {
    persistent: true,
    messageId: message.id,
    type: message.type,
    contentType: 'application/json',
    headers: { [orderingKeyHeader]: message.orderingKey, [destinationHeader]: message.destination },
  };
}

/**
 * The message and its first attempt. Quorum queues count broker-side redeliveries in
 * `x-delivery-count` (absent on the first delivery). Undefined if it was not published by us.
 */
export function decodeMessage(raw: ConsumeMessage): HeldMessage | undefined {
  const { messageId, type, headers = {} } = raw.properties;
  const orderingKey = headers[orderingKeyHeader];
  const destination = headers[destinationHeader];
  if (typeof messageId !== 'string' || typeof orderingKey !== 'string' || typeof destination !== 'string') {
    return undefined;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(raw.content.toString('utf8'));
  } catch {
    return undefined;
  }
  const message: TransportMessage = {
    id: messageId,
    destination,
    orderingKey,
    type: String(type ?? ''),
    payload,
  };
  const redeliveries = Number(headers['x-delivery-count'] ?? 0);
  return { message, firstAttempt: (Number.isFinite(redeliveries) ? redeliveries : 0) + 1 };
}
