import type { TransportMessage } from '@causeway/core';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The wire form: the TransportMessage's fields as JSON (the message id also travels as Nats-Msg-Id). */
export function encodeMessage(message: TransportMessage): Uint8Array {
  const { id, destination, orderingKey, type, payload } = message;
  return encoder.encode(JSON.stringify({ id, destination, orderingKey, type, payload }));
}

/** The message a payload carries, or undefined when it was not written by `encodeMessage`. */
export function decodeMessage(data: Uint8Array): TransportMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  if (!isWireMessage(parsed)) return undefined;
  const { id, destination, orderingKey, type, payload } = parsed;
  return { id, destination, orderingKey, type, payload };
}

function isWireMessage(value: unknown): value is TransportMessage {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['id', 'destination', 'orderingKey', 'type'].every((field) => typeof record[field] === 'string');
}
