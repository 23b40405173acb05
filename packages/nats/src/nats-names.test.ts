import { describe, expect, it } from 'vitest';
import { createNatsNames, toNatsName } from './nats-names.ts';

describe('NATS names', () => {
  const names = createNatsNames('CW');

  it('puts a destination in its own stream, one subject per partition', () => {
    expect(names.streamName('orders.events')).toBe('CW_orders_events');
    expect(names.streamSubject('orders.events')).toBe('CW.orders.events.*');
    expect(names.subject('orders.events', 7)).toBe('CW.orders.events.7');
  });

  it('names a group consumer per partition', () => {
    expect(names.consumerName('billing', 3)).toBe('billing_p3');
    expect(names.consumerName('billing.projections', 0)).toBe('billing_projections_p0');
  });

  it('never maps two different strings to one name', () => {
    expect(toNatsName('orders_events')).not.toBe(toNatsName('orders.events'));
    expect(toNatsName('a b')).not.toBe(toNatsName('a/b'));
    expect(toNatsName('a b')).toMatch(/^a_b_[0-9a-f]{8}$/);
  });

  it('refuses destinations that are not subjects and prefixes that are not one token', () => {
    for (const destination of ['', 'a..b', 'a b', 'a.*', 'a.>', '.a']) {
      expect(() => names.subject(destination, 0), destination).toThrow(/not a valid NATS subject/);
    }
    expect(() => createNatsNames('C.W')).toThrow(/prefix/);
  });
});
