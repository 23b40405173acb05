/**
 * The inventory service: restock and read stock over HTTP; reserve and release as a participant
 * of the PlaceOrder saga (all lines of an order or none); a confirmed order's reservation becomes
 * sold when `orders.OrderConfirmed` arrives. Every stock event is published on `inventory.events`
 * with the available stock after it. The stock operations are in stock-keeper.ts.
 */
import {
  causedBy,
  createConsumer,
  createEventRegistry,
  sagaParticipant,
  stepSucceeded,
} from '@causeway/core';
import { z } from 'zod';
import { consistencyHeader, consistencyTokenOf } from '../../platform/consistency-token.ts';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { runService } from '../../platform/service-runtime.ts';
import { orderConfirmed } from '../orders/orders-domain.ts';
import { inventoryCommands, inventoryRegistry, type Stock } from './inventory-domain.ts';
import { createStockKeeper } from './stock-keeper.ts';

const restockBody = z.object({ quantity: z.number().int().min(1).max(1_000_000) });
const productParams = z.object({ productId: pathId });

await runService({
  name: 'inventory',
  registry: inventoryRegistry,
  async setup({ app, eventStore, store, transport, addConsumer, consumerLogs }) {
    const keeper = createStockKeeper({ eventStore, store });
    const view = (productId: string, state: Stock) => ({
      productId,
      available: state.available,
      reserved: state.reserved,
    });

    app.post('/inventory/:productId/restock', async (request, reply) => {
      const { productId } = parseInput(productParams, request.params, 'path');
      const { quantity } = parseInput(restockBody, request.body);
      const result = await keeper.restock(productId, quantity);
      reply.header(consistencyHeader, consistencyTokenOf(result.events));
      return view(productId, result.state);
    });
    app.get('/inventory/:productId', async (request) => {
      const { productId } = parseInput(productParams, request.params, 'path');
      return view(productId, (await keeper.load(productId, null)).state);
    });

    addConsumer(
      createConsumer({
        name: 'inventory',
        store,
        transport,
        ...consumerLogs,
        destinations: ['inventory.commands', 'orders.events'],
        maxAttempts: 50,
        // Every write here goes to a few hot stock streams. Two transactions at once only wait on
        // each other's rows, and deadlock when they take two products in opposite orders, which
        // PostgreSQL breaks after its deadlock_timeout (1 s): the p99 of an order. One at a time,
        // each with up to 64 messages, there is nothing to wait for.
        batching: { concurrency: 1 },
        registry: createEventRegistry([...inventoryCommands.definitions, orderConfirmed]),
        handlers: {
          ...sagaParticipant(store, inventoryCommands, {
            'inventory.Reserve': (command, { tx }) => keeper.reserveAll(command.data, tx, causedBy(command)),
            'inventory.Release': async (command, { tx }) => {
              await keeper.settleAll(command.data, 'release', tx, causedBy(command));
              return stepSucceeded();
            },
          }),
          'orders.OrderConfirmed': async (event, { tx }) => {
            // Choreography: no saga step, but the same flow as the order that was confirmed.
            await keeper.settleAll(event.data, 'sell', tx, causedBy(event));
          },
        },
      }),
    );
  },
});
