/** Orders, event-sourced; the PlaceOrder saga that takes one from PENDING to CONFIRMED or CANCELLED. */
import {
  command,
  createEventRegistry,
  defineCommand,
  defineEvent,
  defineSaga,
  type MessageOf,
  type NewMessageOf,
  step,
} from '@causeway/core';
import { z } from 'zod';
import { releaseStock, reserveStock } from '../inventory/inventory-domain.ts';
import { chargePayment, refundPayment } from '../payments/payments-domain.ts';
import {
  cancelShipment,
  type ShippingAddressInTransit,
  scheduleShipment,
} from '../shipping/shipping-domain.ts';

/** What a client sends to place an order (SHOP-API); the gateway and the orders service both check it. */
export const placeOrderRequest = z.object({
  userId: z.string().min(1).max(100),
  items: z
    .array(z.object({ productId: z.string().min(1).max(100), quantity: z.number().int().min(1).max(1000) }))
    .min(1)
    .max(100),
  payment: z.object({ token: z.string().min(1).max(100) }),
  shippingAddress: z
    .object({ country: z.string().length(2).optional() })
    .passthrough()
    .optional(),
});

export const orderItem = z.object({
  productId: z.string(),
  name: z.string(),
  unitPriceCents: z.number().int().nonnegative(),
  quantity: z.number().int().positive(),
});
export type OrderItem = z.infer<typeof orderItem>;

export const orderPlaced = defineEvent({
  type: 'orders.OrderPlaced',
  schema: z.object({
    orderId: z.string(),
    userId: z.string(),
    items: z.array(orderItem),
    totalCents: z.number().int().nonnegative(),
    currency: z.string(),
    placedAt: z.string(),
    /** Where the order ships (the country alone names no one); absent when the client gave none. */
    shipToCountry: z.string().optional(),
  }),
});
export const orderConfirmed = defineEvent({
  type: 'orders.OrderConfirmed',
  schema: z.object({
    orderId: z.string(),
    userId: z.string(),
    items: z.array(orderItem),
    totalCents: z.number().int(),
    placedAt: z.string(),
  }),
});
export const orderCancelled = defineEvent({
  type: 'orders.OrderCancelled',
  schema: z.object({ orderId: z.string(), userId: z.string(), reason: z.string() }),
});
export const ordersRegistry = createEventRegistry([orderPlaced, orderConfirmed, orderCancelled]);
export type OrderEvent = MessageOf<(typeof ordersRegistry.definitions)[number]>;
export type NewOrderEvent = NewMessageOf<(typeof ordersRegistry.definitions)[number]>;

const orderRef = z.object({ orderId: z.string().min(1) });
/** The saga's first step: the order exists and is not cancelled. */
export const createOrder = defineCommand({ type: 'orders.Create', schema: orderRef });
/** Cancel a pending order (the compensation of createOrder). */
export const cancelOrder = defineCommand({ type: 'orders.Cancel', schema: orderRef });
export const ordersCommands = createEventRegistry([createOrder, cancelOrder]);

export type OrderPlaced = z.infer<typeof orderPlaced.schema>;
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
export interface Order extends OrderPlaced {
  status: OrderStatus;
  cancelReason?: string;
  /** When the order became CONFIRMED or CANCELLED (its event's occurredAt); absent while PENDING. */
  closedAt?: string;
}

export const orderStream = (orderId: string) => `order-${orderId}`;

export function orderOf(events: readonly OrderEvent[]): Order | null {
  let order: Order | null = null;
  for (const event of events) {
    if (event.type === 'orders.OrderPlaced') order = { ...event.data, status: 'PENDING' };
    else if (order !== null && event.type === 'orders.OrderConfirmed') {
      order.status = 'CONFIRMED';
      order.closedAt = event.occurredAt;
    } else if (order !== null && event.type === 'orders.OrderCancelled') {
      order.status = 'CANCELLED';
      order.cancelReason = event.data.reason;
      order.closedAt = event.occurredAt;
    }
  }
  return order;
}

/**
 * What the saga carries: the order as placed, how to pay and where to ship. The saga instance is
 * stored and its commands travel through the outbox and the transport, so the address is sealed
 * under the user's key before it gets here (shipping-address.ts); only the country is in clear.
 */
export interface PlaceOrderData {
  orderId: string;
  userId: string;
  items: OrderItem[];
  totalCents: number;
  currency: string;
  payment: { token: string };
  shippingAddress?: ShippingAddressInTransit;
}

export function definePlaceOrder(paymentTimeoutMs: number) {
  return defineSaga<PlaceOrderData>('PlaceOrder', [
    step('createOrder', {
      invoke: (order) => command('orders.commands', createOrder, { orderId: order.orderId }),
      compensate: (order) => command('orders.commands', cancelOrder, { orderId: order.orderId }),
    }),
    step('reserveInventory', {
      invoke: (order) =>
        command('inventory.commands', reserveStock, { orderId: order.orderId, items: order.items }),
      compensate: (order) =>
        command('inventory.commands', releaseStock, { orderId: order.orderId, items: order.items }),
      retry: { maxAttempts: 1 },
      timeoutMs: 30_000,
    }),
    step('processPayment', {
      invoke: (order) =>
        command('payments.commands', chargePayment, {
          orderId: order.orderId,
          totalCents: order.totalCents,
          currency: order.currency,
          payment: order.payment,
        }),
      compensate: (order) => command('payments.commands', refundPayment, { orderId: order.orderId }),
      // tok_flaky fails twice, then approves; a decline is final after the same retries.
      retry: { maxAttempts: 4, initialMs: 50, maxMs: 400, retryOnTimeout: false },
      timeoutMs: paymentTimeoutMs,
    }),
    step('shipOrder', {
      invoke: (order) =>
        command('shipping.commands', scheduleShipment, {
          orderId: order.orderId,
          shippingAddress: order.shippingAddress,
        }),
      compensate: (order) => command('shipping.commands', cancelShipment, { orderId: order.orderId }),
      timeoutMs: 30_000,
    }),
  ]);
}

/** What each step's compensation is called (SHOP-API names them; the dashboard draws them). */
export const compensationOf: Readonly<Record<string, string>> = {
  createOrder: 'cancelOrder',
  reserveInventory: 'releaseInventory',
  processPayment: 'refundPayment',
  shipOrder: 'cancelShipment',
};
