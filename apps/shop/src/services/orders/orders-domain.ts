/** Orders, event-sourced; the PlaceOrder saga that takes one from PENDING to CONFIRMED or CANCELLED. */
import { command, createEventRegistry, defineEvent, defineSaga, step } from '@causeway/core';
import { z } from 'zod';

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

export type OrderPlaced = z.infer<typeof orderPlaced.schema>;
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
export interface Order extends OrderPlaced {
  status: OrderStatus;
  cancelReason?: string;
}

export const orderStream = (orderId: string) => `order-${orderId}`;

export function orderOf(events: ReadonlyArray<{ type: string; data: unknown }>): Order | null {
  let order: Order | null = null;
  for (const event of events) {
    if (event.type === 'orders.OrderPlaced') order = { ...(event.data as OrderPlaced), status: 'PENDING' };
    else if (order !== null && event.type === 'orders.OrderConfirmed') order.status = 'CONFIRMED';
    else if (order !== null && event.type === 'orders.OrderCancelled') {
      order.status = 'CANCELLED';
      order.cancelReason = (event.data as { reason: string }).reason;
    }
  }
  return order;
}

/** What the saga carries: the order as placed, and how to pay and where to ship. */
export interface PlaceOrderData {
  orderId: string;
  userId: string;
  items: OrderItem[];
  totalCents: number;
  currency: string;
  payment: { token: string };
  shippingAddress?: { country?: string } & Record<string, unknown>;
}

export function definePlaceOrder(paymentTimeoutMs: number) {
  return defineSaga<PlaceOrderData>('PlaceOrder', [
    step('createOrder', {
      invoke: (order) => command('orders.commands', 'orders.Create', { orderId: order.orderId }),
      compensate: (order) => command('orders.commands', 'orders.Cancel', { orderId: order.orderId }),
    }),
    step('reserveInventory', {
      invoke: (order) =>
        command('inventory.commands', 'inventory.Reserve', { orderId: order.orderId, items: order.items }),
      compensate: (order) =>
        command('inventory.commands', 'inventory.Release', { orderId: order.orderId, items: order.items }),
      retry: { maxAttempts: 1 },
      timeoutMs: 30_000,
    }),
    step('processPayment', {
      invoke: (order) =>
        command('payments.commands', 'payments.Charge', {
          orderId: order.orderId,
          totalCents: order.totalCents,
          currency: order.currency,
          payment: order.payment,
        }),
      compensate: (order) => command('payments.commands', 'payments.Refund', { orderId: order.orderId }),
      // tok_flaky fails twice, then approves; a decline is final after the same retries.
      retry: { maxAttempts: 4, initialMs: 50, maxMs: 400, retryOnTimeout: false },
      timeoutMs: paymentTimeoutMs,
    }),
    step('shipOrder', {
      invoke: (order) =>
        command('shipping.commands', 'shipping.Schedule', {
          orderId: order.orderId,
          shippingAddress: order.shippingAddress,
        }),
      compensate: (order) => command('shipping.commands', 'shipping.Cancel', { orderId: order.orderId }),
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
