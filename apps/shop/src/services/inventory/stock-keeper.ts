/**
 * Inventory's operations on stock, on the service's own store: restock, reserve every line of an
 * order or none, release or sell what an order reserved, and read a product's stock. Each runs in
 * the caller's transaction when given one (a consumer's, with its inbox receipt and reply).
 *
 * Cost does not grow with history: a stock stream is loaded from its latest snapshot plus at most
 * `stockSnapshot.every - 1` events, and the state holds only the open reservations. The orders
 * whose reservation ended are documents beside the stream, read by id.
 */
import {
  type Causation,
  type CommandResult,
  createCommandHandler,
  type EventStore,
  loadAggregate,
  type SagaStepOutcome,
  type Store,
  stepFailed,
  stepSucceeded,
  type Transaction,
} from '@causeway/core';
import {
  type OrderLines,
  type Stock,
  type StockCommand,
  type StockEvent,
  stockDecider,
  stockSnapshot,
  stockStream,
} from './inventory-domain.ts';

/**
 * Where every stock event is published, in the transaction that appends it: the orders service
 * keeps each product's available stock from them (GET /products/:id shows it).
 */
export const stockEventsDestination = 'inventory.events';

/** Orders whose reservation ended (released or sold), one document each: never reserved again. */
const endedReservations = 'inventory_ended_reservations';

export interface LoadedStock {
  state: Stock;
  version: number;
  /** The stream version of the snapshot the load started from (null: replayed from the start). */
  fromSnapshot: number | null;
}

export function createStockKeeper(options: { eventStore: EventStore; store: Store }) {
  const { eventStore, store } = options;
  const stock = createCommandHandler<Stock, StockCommand, StockEvent>({
    eventStore,
    decider: stockDecider,
    snapshot: stockSnapshot,
    // Orders of one product conflict on its stream version; each retry reloads (cheaply).
    maxRetries: 50,
  });

  const load = async (productId: string, tx: Transaction | null): Promise<LoadedStock> =>
    (await loadAggregate(eventStore, stockStream(productId), {
      decider: stockDecider as never,
      snapshot: stockSnapshot as never,
      tx,
    })) as LoadedStock;

  const hasEnded = async (orderId: string, tx: Transaction) =>
    (await store.documents.get(tx, endedReservations, orderId)) !== null;

  return {
    load,

    restock(productId: string, quantity: number): Promise<CommandResult<Stock>> {
      return stock.handle(
        stockStream(productId),
        { kind: 'restock', productId, quantity },
        { publishTo: stockEventsDestination },
      );
    },

    /**
     * Every line or none: the check runs first, the appends only if all lines fit. A refusal found
     * by the check is a failed step; one the decider raises later (a concurrent order took the
     * stock between check and append) is thrown, so the caller's transaction rolls back and the
     * redelivered command checks again. The events carry the order's flow (`cause`).
     */
    async reserveAll(order: OrderLines, tx: Transaction, cause: Causation): Promise<SagaStepOutcome> {
      // Released or sold already (a late command of a flow that moved on): nothing to reserve.
      if (await hasEnded(order.orderId, tx)) return stepSucceeded();
      const lines = mergeLines(order.items);
      for (const { productId, quantity } of lines) {
        const { state } = await load(productId, tx);
        if (state.reservations[order.orderId] !== undefined) continue;
        if (quantity > state.available) {
          return stepFailed(
            `out of stock: product ${productId} has ${state.available} available, ${quantity} wanted`,
          );
        }
      }
      for (const { productId, quantity } of lines) {
        await stock.handle(
          stockStream(productId),
          { kind: 'reserve', line: { productId, orderId: order.orderId, quantity } },
          { tx, ...cause, publishTo: stockEventsDestination },
        );
      }
      return stepSucceeded();
    },

    /** Releases (compensation) or sells (order confirmed) what the order reserved; then it has ended. */
    async settleAll(order: OrderLines, kind: 'release' | 'sell', tx: Transaction, cause: Causation) {
      for (const { productId } of mergeLines(order.items)) {
        await stock.handle(
          stockStream(productId),
          { kind, productId, orderId: order.orderId },
          { tx, ...cause, publishTo: stockEventsDestination },
        );
      }
      // The first ending counts: a release never follows a sale, nor a sale a release.
      if (!(await hasEnded(order.orderId, tx))) {
        await store.documents.put(tx, endedReservations, order.orderId, {
          ended: kind === 'release' ? 'released' : 'sold',
        });
      }
    },
  };
}

export type StockKeeper = ReturnType<typeof createStockKeeper>;

/**
 * An order's lines, one per product, in product id order: every transaction takes the stock
 * streams it writes in the same order, so two of them (another inventory process's) never hold
 * one each of two products while waiting for the other.
 */
function mergeLines(items: OrderLines['items']) {
  const merged = new Map<string, number>();
  for (const item of items) merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity);
  return [...merged]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}
