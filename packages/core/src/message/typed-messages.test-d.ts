/**
 * Type tests: a definition's data type reaches every place a message is written or handled. Each
 * `@ts-expect-error` fails the typecheck if the line it marks compiles, so these prove that an
 * unknown type or data of the wrong shape is refused by the compiler.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { EventStore } from '../event-store/index.ts';
import { createConsumer } from '../messaging/index.ts';
import { defineProjection } from '../projections/index.ts';
import { command, sagaParticipant, stepSucceeded } from '../sagas/index.ts';
import type { Store } from '../store/index.ts';
import type { Transport } from '../transport/index.ts';
import { createEventRegistry, defineCommand, defineEvent, type MessageOf } from './event-registry.ts';

const orderPlaced = defineEvent({
  type: 'orders.OrderPlaced',
  schema: z.object({ orderId: z.string(), totalCents: z.number() }),
});
const orderCancelled = defineEvent({
  type: 'orders.OrderCancelled',
  schema: z.object({ orderId: z.string(), reason: z.string() }),
});
const registry = createEventRegistry([orderPlaced, orderCancelled]);
type OrderEvent = MessageOf<(typeof registry.definitions)[number]>;

const chargeCard = defineCommand({
  type: 'payments.Charge',
  schema: z.object({ orderId: z.string(), amountCents: z.number().int() }),
});
const paymentCommands = createEventRegistry([chargeCard]);

declare const eventStore: EventStore<(typeof registry.definitions)[number]>;
declare const store: Store;
declare const transport: Transport;

describe('typed messages', () => {
  it('appendToStream takes only defined types with their own data', async () => {
    await eventStore.appendToStream('order-1', [
      { type: 'orders.OrderPlaced', data: { orderId: '1', totalCents: 5 } },
      { type: 'orders.OrderCancelled', data: { orderId: '1', reason: 'changed my mind' } },
    ]);
    // @ts-expect-error: a type the registry does not define
    await eventStore.appendToStream('order-1', [{ type: 'orders.Shipped', data: { orderId: '1' } }]);
    // @ts-expect-error: data of another type's shape
    await eventStore.appendToStream('order-1', [{ type: 'orders.OrderPlaced', data: { reason: 'x' } }]);
  });

  it('reading narrows data by type', async () => {
    const events = await eventStore.readStream('order-1');
    expectTypeOf(events).toEqualTypeOf<OrderEvent[]>();
    const first = events[0]!;
    if (first.type === 'orders.OrderCancelled') expectTypeOf(first.data.reason).toEqualTypeOf<string>();
  });

  it('consumer handlers are keyed by defined types and get typed data', () => {
    createConsumer({
      name: 'billing',
      store,
      transport,
      destinations: ['orders.events'],
      registry,
      handlers: {
        'orders.OrderPlaced': async (message) => {
          expectTypeOf(message.data).toEqualTypeOf<{ orderId: string; totalCents: number }>();
        },
      },
    });
    createConsumer({
      name: 'billing',
      store,
      transport,
      destinations: ['orders.events'],
      registry,
      handlers: {
        // @ts-expect-error: no definition of this type in the consumer's registry
        'orders.Shipped': async () => {},
      },
    });
    createConsumer({
      name: 'billing',
      store,
      transport,
      destinations: ['orders.events'],
      registry,
      handlers: {
        // @ts-expect-error: the handler expects data the definition does not have
        'orders.OrderPlaced': async (message: { data: { sku: string } }) => {
          expectTypeOf(message.data.sku).toBeString();
        },
      },
    });
  });

  it('projection handlers are typed by the registry', () => {
    defineProjection({
      name: 'totals',
      registry,
      handlers: {
        'orders.OrderPlaced': (event) => {
          expectTypeOf(event.data.totalCents).toBeNumber();
        },
      },
    });
    defineProjection({
      name: 'totals',
      registry,
      // @ts-expect-error: no such event type
      handlers: { 'orders.Refunded': () => {} },
    });
  });

  it('saga commands and participants are typed by their definitions', () => {
    command('payments.commands', chargeCard, { orderId: '1', amountCents: 100 });
    // @ts-expect-error: amountCents is missing
    command('payments.commands', chargeCard, { orderId: '1' });
    sagaParticipant(store, paymentCommands, {
      'payments.Charge': async (message) => {
        expectTypeOf(message.data.amountCents).toBeNumber();
        expectTypeOf(message.saga.idempotencyKey).toBeString();
        return stepSucceeded();
      },
    });
    sagaParticipant(store, paymentCommands, {
      // @ts-expect-error: the participant's registry defines no such command
      'payments.Refund': async () => stepSucceeded(),
    });
  });
});
