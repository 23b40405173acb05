/**
 * Shop events as the services' logs hold them, for the analytics models' tests: a small history
 * with every kind of order outcome, a price change, and one event that does not fit its schema.
 */
import { randomUUID } from 'node:crypto';
import type { Message } from '@causeway/core';
import type { Bronze } from '@causeway/lakehouse';
import { bronzeChangeOfEvent } from '../event-log-source.ts';

export interface LoggedEvent {
  service: string;
  message: Message;
}

/** Builds each service's log with its own global positions, in the order events are added. */
export function createShopLog() {
  const events: LoggedEvent[] = [];
  const positions = new Map<string, number>();
  const streamVersions = new Map<string, number>();
  function add(service: string, streamId: string, type: string, data: Record<string, unknown>, at: string) {
    const globalPosition = (positions.get(service) ?? 0) + 1;
    positions.set(service, globalPosition);
    const streamPosition = (streamVersions.get(streamId) ?? 0) + 1;
    streamVersions.set(streamId, streamPosition);
    events.push({
      service,
      message: {
        id: randomUUID(),
        type,
        schemaVersion: 1,
        streamId,
        streamPosition,
        globalPosition,
        correlationId: null,
        causationId: null,
        occurredAt: at,
        metadata: {},
        data,
      },
    });
  }
  return {
    events,
    product(id: string, name: string, priceCents: number, at: string) {
      add(
        'catalog',
        `product-${id}`,
        'catalog.ProductCreated',
        { productId: id, sku: `SKU-${id}`, name, priceCents, currency: 'EUR' },
        at,
      );
    },
    reprice(id: string, priceCents: number, at: string) {
      add('catalog', `product-${id}`, 'catalog.ProductUpdated', { productId: id, priceCents }, at);
    },
    user(id: string, at: string) {
      add(
        'users',
        `user-${id}`,
        'users.UserRegistered',
        { userId: id, name: { $pii: 'sealed' }, email: { $pii: 'sealed' } },
        at,
      );
    },
    order(order: {
      id: string;
      userId: string;
      lines: Array<[productId: string, quantity: number, unitPriceCents: number]>;
      at: string;
      country?: string;
    }) {
      const items = order.lines.map(([productId, quantity, unitPriceCents]) => ({
        productId,
        name: productId,
        quantity,
        unitPriceCents,
      }));
      const totalCents = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
      add(
        'orders',
        `order-${order.id}`,
        'orders.OrderPlaced',
        {
          orderId: order.id,
          userId: order.userId,
          items,
          totalCents,
          currency: 'EUR',
          placedAt: order.at,
          ...(order.country ? { shipToCountry: order.country } : {}),
        },
        order.at,
      );
      return totalCents;
    },
    confirm(orderId: string, at: string) {
      add('orders', `order-${orderId}`, 'orders.OrderConfirmed', { orderId }, at);
    },
    cancel(orderId: string, reason: string, at: string) {
      add('orders', `order-${orderId}`, 'orders.OrderCancelled', { orderId, reason }, at);
    },
    charge(orderId: string, amountCents: number, at: string) {
      add(
        'payments',
        `payment-${orderId}`,
        'payments.Charged',
        { orderId, amountCents, currency: 'EUR', paymentId: randomUUID() },
        at,
      );
    },
    refund(orderId: string, amountCents: number, at: string) {
      add(
        'payments',
        `payment-${orderId}`,
        'payments.Refunded',
        { orderId, amountCents, currency: 'EUR' },
        at,
      );
    },
    decline(orderId: string, at: string) {
      add('payments', `payment-${orderId}`, 'payments.Declined', { orderId, reason: 'declined' }, at);
    },
    /** Any event, as it is: for data that does not fit. */
    raw(service: string, streamId: string, type: string, data: Record<string, unknown>, at: string) {
      add(service, streamId, type, data, at);
    },
  };
}

/** Ingests logged events into bronze as the event-log source would: a batch per service. */
export async function ingestLogged(bronze: Bronze, events: readonly LoggedEvent[]): Promise<void> {
  const services = [...new Set(events.map((event) => event.service))];
  for (const service of services) {
    const mine = events.filter((event) => event.service === service).map((event) => event.message);
    await bronze.ingest({
      source: service,
      position: BigInt(mine.at(-1)!.globalPosition),
      changes: mine.map((message) => bronzeChangeOfEvent(service, message)),
    });
  }
}
