/**
 * Stock per product, event-sourced: available, reserved per order, sold. A reservation is refused
 * when it would make available stock negative; concurrent reservations of the last unit conflict
 * on the stream version, so exactly one of them commits.
 *
 * The state stays the size of the open reservations, whatever the stream's length: a product
 * ordered 20,000 times must load as fast as on its first order (with a snapshot every
 * `stockSnapshot.every` events). So it does not remember the orders whose reservation ended; the
 * service keeps those beside the stream (a document per order, written in the same transaction)
 * and never asks the decider to reserve for them again.
 */
import {
  createEventRegistry,
  type Decider,
  defineCommand,
  defineEvent,
  type SnapshotPolicy,
} from '@causeway/core';
import { z } from 'zod';
import { BusinessRuleError } from '../../platform/problem.ts';

/**
 * The stock available once the event applied. Carried in every stock event (event-carried state)
 * so that a replica elsewhere (orders) keeps the level by taking the latest event of a product's
 * stream, without redoing inventory's arithmetic. Optional: events stored before it was added lack it.
 */
const availableAfter = z.number().int().nonnegative().optional();
const line = {
  productId: z.string(),
  orderId: z.string(),
  quantity: z.number().int().positive(),
  availableAfter,
};
export const restocked = defineEvent({
  type: 'inventory.Restocked',
  schema: z.object({ productId: z.string(), quantity: z.number().int().positive(), availableAfter }),
});
export const reserved = defineEvent({ type: 'inventory.Reserved', schema: z.object(line) });
export const released = defineEvent({ type: 'inventory.Released', schema: z.object(line) });
export const sold = defineEvent({ type: 'inventory.Sold', schema: z.object(line) });
export const inventoryRegistry = createEventRegistry([restocked, reserved, released, sold]);

/** The lines of one order, as the saga's commands carry them (extra fields are dropped). */
const orderLines = z.object({
  orderId: z.string().min(1),
  items: z.array(z.object({ productId: z.string().min(1), quantity: z.number().int().positive() })).min(1),
});
export type OrderLines = z.infer<typeof orderLines>;
/** Reserve every line of an order, or none. */
export const reserveStock = defineCommand({ type: 'inventory.Reserve', schema: orderLines });
/** Release what an order reserved (the compensation of reserveStock). */
export const releaseStock = defineCommand({ type: 'inventory.Release', schema: orderLines });
export const inventoryCommands = createEventRegistry([reserveStock, releaseStock]);

type Line = { productId: string; orderId: string; quantity: number; availableAfter?: number };
export type StockEvent =
  | { type: 'inventory.Restocked'; data: { productId: string; quantity: number; availableAfter?: number } }
  | { type: 'inventory.Reserved'; data: Line }
  | { type: 'inventory.Released'; data: Line }
  | { type: 'inventory.Sold'; data: Line };
export type StockCommand =
  | { kind: 'restock'; productId: string; quantity: number }
  | { kind: 'reserve'; line: Line }
  | { kind: 'release'; productId: string; orderId: string }
  | { kind: 'sell'; productId: string; orderId: string };

export interface Stock {
  available: number;
  reserved: number;
  sold: number;
  /** Open reservations by order. */
  reservations: Record<string, number>;
}

export const stockStream = (productId: string) => `stock-${productId}`;

/**
 * A snapshot of a stock stream every 50 events: a load reads one snapshot and at most 49 events.
 * Bump `version` when `evolve` or the state's shape changes.
 */
export const stockSnapshot: SnapshotPolicy<Stock> = {
  aggregateType: 'inventory.stock',
  every: 50,
  version: 1,
};

export const stockDecider: Decider<Stock, StockCommand, StockEvent> = {
  initialState: () => ({ available: 0, reserved: 0, sold: 0, reservations: {} }),
  decide(command, state) {
    switch (command.kind) {
      case 'restock': {
        const { productId, quantity } = command;
        return [
          {
            type: 'inventory.Restocked',
            data: { productId, quantity, availableAfter: state.available + quantity },
          },
        ];
      }
      case 'reserve': {
        const { line } = command;
        // Already reserved. (An order whose reservation ended is the service's check: see above.)
        if (state.reservations[line.orderId] !== undefined) return [];
        if (line.quantity > state.available) {
          throw new BusinessRuleError(
            'out-of-stock',
            `Product ${line.productId}: ${line.quantity} wanted, ${state.available} available`,
          );
        }
        return [
          { type: 'inventory.Reserved', data: { ...line, availableAfter: state.available - line.quantity } },
        ];
      }
      case 'release':
      case 'sell': {
        const quantity = state.reservations[command.orderId];
        if (quantity === undefined) return [];
        const data = { productId: command.productId, orderId: command.orderId, quantity };
        // A sale ends a reservation whose units already left the available stock.
        return [
          command.kind === 'release'
            ? { type: 'inventory.Released', data: { ...data, availableAfter: state.available + quantity } }
            : { type: 'inventory.Sold', data: { ...data, availableAfter: state.available } },
        ];
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'inventory.Restocked':
        return { ...state, available: state.available + event.data.quantity };
      case 'inventory.Reserved':
        return {
          ...state,
          available: state.available - event.data.quantity,
          reserved: state.reserved + event.data.quantity,
          reservations: { ...state.reservations, [event.data.orderId]: event.data.quantity },
        };
      case 'inventory.Released':
      case 'inventory.Sold': {
        const { [event.data.orderId]: _ended, ...open } = state.reservations;
        const releasedNow = event.type === 'inventory.Released';
        return {
          ...state,
          available: state.available + (releasedNow ? event.data.quantity : 0),
          reserved: state.reserved - event.data.quantity,
          sold: state.sold + (releasedNow ? 0 : event.data.quantity),
          reservations: open,
        };
      }
    }
  },
};
