import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  causedBy,
  createConsumer,
  createEventRegistry,
  createEventStore,
  createOutboxRelay,
  defineCommand,
  defineEvent,
  flowTimeline,
  followUp,
  type Message,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { expect, it } from 'vitest';
import { z } from 'zod';

const registry = createEventRegistry([
  defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ orderId: z.string() }) }),
  defineEvent({ type: 'inventory.StockReserved', schema: z.object({ orderId: z.string() }) }),
]);

it('choreography: each reaction carries the flow’s correlation id and its cause, across three services', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-choreography-'));
  const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db'), pollIntervalMs: 5 });
  const [orders, inventory, shipping] = await Promise.all(
    ['orders', 'inventory', 'shipping'].map((name) =>
      createSqliteStore({ filename: join(directory, `${name}.db`) }),
    ),
  );
  const ordersEvents = createEventStore({ store: orders!, registry });
  const inventoryEvents = createEventStore({ store: inventory!, registry });
  const received: Message[] = [];
  const inventoryConsumer = createConsumer({
    name: 'inventory',
    store: inventory!,
    transport,
    destinations: ['orders.events'],
    registry,
    handlers: {
      // Reacts with its own event (published to inventory.events) and a command to shipping.
      'orders.OrderPlaced': async (message, { tx, send }) => {
        const { orderId } = message.data as { orderId: string };
        await inventoryEvents.appendToStream(
          `stock-${orderId}`,
          [{ type: 'inventory.StockReserved', data: { orderId } }],
          {
            tx,
            publishTo: 'inventory.events',
            ...causedBy(message),
          },
        );
        await send([
          followUp(message, {
            destination: 'shipping.commands',
            type: 'shipping.PrepareParcel',
            data: { orderId },
            orderingKey: orderId,
          }),
        ]);
      },
    },
  });
  const shippingConsumer = createConsumer({
    name: 'shipping',
    store: shipping!,
    transport,
    destinations: ['inventory.events', 'shipping.commands'],
    registry: createEventRegistry([
      ...registry.definitions,
      defineCommand({ type: 'shipping.PrepareParcel', schema: z.object({ orderId: z.string() }) }),
    ]),
    handlers: {
      'inventory.StockReserved': async (message) => {
        received.push(message);
      },
      'shipping.PrepareParcel': async (message) => {
        received.push(message);
      },
    },
  });
  const relays = [orders, inventory].map((store) =>
    createOutboxRelay({ store: store!, transport, idlePollMs: 20 }),
  );
  try {
    await inventoryConsumer.start();
    await shippingConsumer.start();
    for (const relay of relays) relay.start();
    const placed = await ordersEvents.appendToStream(
      'order-7',
      [{ type: 'orders.OrderPlaced', data: { orderId: '7' } }],
      {
        publishTo: 'orders.events',
        correlationId: 'flow-7',
      },
    );
    const deadline = Date.now() + 15_000;
    while (received.length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const placedId = placed.events[0]!.id;
    expect(
      received.map((message) => [message.type, message.correlationId, message.causationId]).sort(),
    ).toEqual([
      ['inventory.StockReserved', 'flow-7', placedId],
      ['shipping.PrepareParcel', 'flow-7', placedId],
    ]);
    // The reaction is in inventory's own log too, traced the same way.
    const [reserved] = await inventoryEvents.readStream('stock-7');
    expect([reserved!.correlationId, reserved!.causationId]).toEqual(['flow-7', placedId]);
    // One timeline of the flow across the services' stores.
    const timeline = await flowTimeline('flow-7', [
      { service: 'orders', store: orders! },
      { service: 'inventory', store: inventory! },
      { service: 'shipping', store: shipping! },
    ]);
    expect(
      timeline.map((entry) => (entry.kind === 'event' ? [entry.service, entry.type, entry.causationId] : [])),
    ).toEqual([
      ['orders', 'orders.OrderPlaced', null],
      ['inventory', 'inventory.StockReserved', placedId],
    ]);
  } finally {
    for (const relay of relays) await relay.stop();
    await inventoryConsumer.stop();
    await shippingConsumer.stop();
    await transport.close();
    for (const store of [orders, inventory, shipping]) await store!.close();
  }
});

it('causedBy starts a flow at the first message when it had no correlation id', () => {
  expect(causedBy({ id: 'm-1', correlationId: null })).toEqual({ correlationId: 'm-1', causationId: 'm-1' });
  expect(causedBy({ id: 'm-2', correlationId: 'flow' })).toEqual({
    correlationId: 'flow',
    causationId: 'm-2',
  });
});
