import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '../errors/index.ts';
import { createEventRegistry, defineCommand, defineEvent } from '../message/index.ts';
import { defineProjection } from '../projections/index.ts';
import { sagaParticipant, stepSucceeded } from '../sagas/index.ts';
import type { Store } from '../store/index.ts';
import type { Transport } from '../transport/index.ts';
import { createConsumer } from './consumer.ts';

// Checked at construction, before any store or transport is touched.
const store = {} as Store;
const transport = {} as Transport;
const placed = defineEvent({ type: 'orders.Placed', schema: z.object({ orderId: z.string() }) });
const registry = createEventRegistry([placed]);

/** A handler map the compiler cannot check (built at run time, or typed loosely). */
const loose = (type: string) => ({ [type]: async () => stepSucceeded() }) as Record<string, never>;

describe('a handler for a type the registry does not define is refused at start-up', () => {
  it('in a consumer', () => {
    expect(() =>
      createConsumer({
        name: 'c',
        store,
        transport,
        destinations: ['d'],
        registry,
        handlers: loose('orders.Placd'),
      }),
    ).toThrow(/Consumer c has a handler for orders.Placd, which its registry does not define/);
    expect(() =>
      createConsumer({
        name: 'c',
        store,
        transport,
        destinations: ['d'],
        registry,
        handlers: loose('orders.Placd'),
      }),
    ).toThrow(ConfigurationError);
  });

  it('in a saga participant', () => {
    const commands = createEventRegistry([defineCommand({ type: 'stock.Reserve', schema: z.object({}) })]);
    expect(() => sagaParticipant(store, commands, loose('stock.Reserv'))).toThrow(/handler for stock.Reserv/);
  });

  it('in a projection', () => {
    expect(() => defineProjection({ name: 'p', registry, handlers: loose('orders.Shipped') })).toThrow(
      /Projection p has a handler for orders.Shipped/,
    );
  });
});
