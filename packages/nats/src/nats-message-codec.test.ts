import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './nats-message-codec.ts';

describe('NATS message codec', () => {
  it('round-trips every field of a transport message', () => {
    const message = {
      id: '0190-abc',
      destination: 'orders.events',
      orderingKey: 'ключ/ü 🚚',
      type: 'orders.OrderPlaced',
      payload: { nested: [1, 'two', null, true], empty: {} },
    };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('recognises payloads it did not write', () => {
    expect(decodeMessage(new TextEncoder().encode('not json'))).toBeUndefined();
    expect(decodeMessage(new TextEncoder().encode('{"id":1}'))).toBeUndefined();
  });
});
