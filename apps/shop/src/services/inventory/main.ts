/**
 * The inventory service: restock and read stock over HTTP; reserve and release as a participant
 * of the PlaceOrder saga (all lines of an order or none); a confirmed order's reservation becomes
 * sold when `orders.OrderConfirmed` arrives.
 */
import {
  type Causation,
  causedBy,
  createCommandHandler,
  createConsumer,
  createEventRegistry,
  loadAggregate,
  sagaParticipant,
  stepFailed,
  stepSucceeded,
  type Transaction,
} from '@causeway/core';
import { z } from 'zod';
import { consistencyHeader, encodeConsistencyToken, marksOf } from '../../platform/consistency-token.ts';
import { parseInput } from '../../platform/http-input.ts';
import { runService } from '../../platform/service-runtime.ts';
import { orderConfirmed } from '../orders/orders-domain.ts';
import {
  inventoryCommands,
  inventoryRegistry,
  type OrderLines,
  type Stock,
  type StockCommand,
  type StockEvent,
  stockDecider,
  stockStream,
} from './inventory-domain.ts';

const restockBody = z.object({ quantity: z.number().int().min(1).max(1_000_000) });
const productParams = z.object({ productId: z.string().min(1).max(100) });

await runService({
  name: 'inventory',
  registry: inventoryRegistry,
  async setup({ app, eventStore, store, transport, addConsumer }) {
    const stock = createCommandHandler<Stock, StockCommand, StockEvent>({
      eventStore,
      decider: stockDecider,
      maxRetries: 50,
    });
    const view = (productId: string, state: Stock) => ({
      productId,
      available: state.available,
      reserved: state.reserved,
    });
    const load = async (productId: string, tx: Transaction | null) =>
      (await loadAggregate(eventStore, stockStream(productId), { decider: stockDecider as never, tx })) as {
        state: Stock;
        version: number;
      };

    app.post('/inventory/:productId/restock', async (request, reply) => {
      const { productId } = parseInput(productParams, request.params, 'path');
      const { quantity } = parseInput(restockBody, request.body);
      const result = await stock.handle(stockStream(productId), { kind: 'restock', productId, quantity });
      reply.header(consistencyHeader, encodeConsistencyToken(marksOf(result.events)));
      return view(productId, result.state);
    });
    app.get('/inventory/:productId', async (request) => {
      const { productId } = parseInput(productParams, request.params, 'path');
      return view(productId, (await load(productId, null)).state);
    });

    /**
     * Every line or none: the check runs first, the appends only if all lines fit. The events carry
     * the order's flow (`cause`), so the dashboard follows an order into this service.
     */
    async function reserveAll(order: OrderLines, tx: Transaction, cause: Causation) {
      const lines = mergeLines(order.items);
      for (const { productId, quantity } of lines) {
        const { state } = await load(productId, tx);
        if (state.reservations[order.orderId] !== undefined || state.settled[order.orderId]) continue;
        if (quantity > state.available) {
          return stepFailed(
            `out of stock: product ${productId} has ${state.available} available, ${quantity} wanted`,
          );
        }
      }
      for (const { productId, quantity } of lines) {
        // A concurrent reservation of the same stock makes this throw: the consumer retries the
        // whole command (and its check) in a new transaction.
        await stock.handle(
          stockStream(productId),
          { kind: 'reserve', line: { productId, orderId: order.orderId, quantity } },
          { tx, ...cause },
        );
      }
      return stepSucceeded();
    }
    const settleAll = async (
      order: OrderLines,
      kind: 'release' | 'sell',
      tx: Transaction,
      cause: Causation,
    ) => {
      for (const { productId } of mergeLines(order.items)) {
        await stock.handle(
          stockStream(productId),
          { kind, productId, orderId: order.orderId },
          { tx, ...cause },
        );
      }
    };

    addConsumer(
      createConsumer({
        name: 'inventory',
        store,
        transport,
        destinations: ['inventory.commands', 'orders.events'],
        maxAttempts: 50,
        registry: createEventRegistry([...inventoryCommands.definitions, orderConfirmed]),
        handlers: {
          ...sagaParticipant(store, inventoryCommands, {
            // A refusal found by the check is a failed step. One the decider raises later (a
            // concurrent order took the stock between check and append) is thrown instead: the
            // transaction, with any line already reserved, rolls back, and the redelivered command
            // runs the check again.
            'inventory.Reserve': (command, { tx }) => reserveAll(command.data, tx, causedBy(command)),
            'inventory.Release': async (command, { tx }) => {
              await settleAll(command.data, 'release', tx, causedBy(command));
              return stepSucceeded();
            },
          }),
          'orders.OrderConfirmed': async (event, { tx }) => {
            // Choreography: no saga step, but the same flow as the order that was confirmed.
            await settleAll(event.data, 'sell', tx, causedBy(event));
          },
        },
      }),
    );
  },
});

function mergeLines(items: OrderLines['items']) {
  const merged = new Map<string, number>();
  for (const item of items) merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity);
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}
