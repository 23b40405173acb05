/**
 * The query service's read models as one projection of catalog, users and orders events:
 * product search, "My Orders" (denormalized: items with names and prices, status) and daily sales
 * (kept incrementally; a scheduled full refresh checks it). Tables live in generations; readers
 * query the views named `products_view`, `my_orders` and `daily_sales`.
 */
import {
  createEventRegistry,
  defineProjection,
  type EventRegistry,
  type ProjectionContext,
  type SubscriptionSource,
  subscribeTo,
} from '@causeway/core';
import type { ServiceClient } from '../../platform/service-client.ts';
import { catalogRegistry } from '../catalog/catalog-domain.ts';
import { ordersRegistry } from '../orders/orders-domain.ts';
import { usersRegistry } from '../users/users-domain.ts';
import { serviceHistory } from './source-history.ts';

/** Every event the read models consume, validated on arrival against its owner's definition. */
const sourceRegistry = createEventRegistry([
  ...catalogRegistry.definitions,
  ...usersRegistry.definitions,
  ...ordersRegistry.definitions,
]);

const registries: Record<string, EventRegistry> = {
  catalog: catalogRegistry,
  users: usersRegistry,
  orders: ordersRegistry,
};

/** The services the read models are built from, each delivered live and replayed on rebuild. */
export function querySources(call: ServiceClient): SubscriptionSource[] {
  return Object.entries(registries).map(([service, registry]) =>
    subscribeTo({
      name: service,
      destination: `${service}.events`,
      registry,
      history: serviceHistory(call, service),
    }),
  );
}

export const readModelNames = ['products_view', 'my_orders', 'daily_sales'] as const;

const setStatus = ({ tx, table }: ProjectionContext, orderId: string, status: string) =>
  tx.execute(`UPDATE ${table('my_orders')} SET status = $2 WHERE order_id = $1`, [orderId, status]);

export const queryProjection = defineProjection({
  name: 'query',
  registry: sourceRegistry,
  tables: {
    products_view: (name) =>
      `CREATE TABLE ${name} (product_id TEXT PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
         price_cents BIGINT NOT NULL, currency TEXT NOT NULL, search_text TEXT NOT NULL)`,
    my_orders: (name) => [
      `CREATE TABLE ${name} (order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL,
         total_cents BIGINT NOT NULL, currency TEXT NOT NULL, created_at TEXT NOT NULL, items TEXT NOT NULL)`,
      `CREATE INDEX ${name}_by_user ON ${name} (user_id, created_at)`,
    ],
    daily_sales: (name) =>
      `CREATE TABLE ${name} (day TEXT PRIMARY KEY, orders BIGINT NOT NULL, revenue_cents BIGINT NOT NULL)`,
  },
  handlers: {
    'catalog.ProductCreated': async (event, { tx, table }) => {
      const p = event.data;
      await tx.execute(
        `INSERT INTO ${table('products_view')} (product_id, sku, name, price_cents, currency, search_text)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (product_id) DO NOTHING`,
        [p.productId, p.sku, p.name, p.priceCents, p.currency, `${p.sku} ${p.name}`.toLowerCase()],
      );
    },
    'catalog.ProductUpdated': async (event, { tx, table }) => {
      const p = event.data;
      if (p.name !== undefined) {
        await tx.execute(
          `UPDATE ${table('products_view')} SET name = $2, search_text = lower(sku || ' ' || $2) WHERE product_id = $1`,
          [p.productId, p.name],
        );
      }
      if (p.priceCents !== undefined) {
        await tx.execute(`UPDATE ${table('products_view')} SET price_cents = $2 WHERE product_id = $1`, [
          p.productId,
          p.priceCents,
        ]);
      }
    },
    'orders.OrderPlaced': async (event, { tx, table }) => {
      const o = event.data;
      await tx.execute(
        `INSERT INTO ${table('my_orders')} (order_id, user_id, status, total_cents, currency, created_at, items)
         VALUES ($1, $2, 'PENDING', $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING`,
        [o.orderId, o.userId, o.totalCents, o.currency, o.placedAt, JSON.stringify(o.items)],
      );
    },
    'orders.OrderConfirmed': async (event, context) => {
      const o = event.data;
      await setStatus(context, o.orderId, 'CONFIRMED');
      await context.tx.execute(
        `INSERT INTO ${context.table('daily_sales')} (day, orders, revenue_cents) VALUES ($1, 1, $2)
         ON CONFLICT (day) DO UPDATE SET orders = ${context.table('daily_sales')}.orders + 1,
           revenue_cents = ${context.table('daily_sales')}.revenue_cents + excluded.revenue_cents`,
        [o.placedAt.slice(0, 10), o.totalCents],
      );
    },
    'orders.OrderCancelled': async (event, context) => {
      await setStatus(context, event.data.orderId, 'CANCELLED');
    },
    'users.UserForgotten': async (event, { tx, table }) => {
      await tx.execute(`DELETE FROM ${table('my_orders')} WHERE user_id = $1`, [event.data.userId]);
    },
  },
});
