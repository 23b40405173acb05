/**
 * The query service: read models fed by events (CQRS). "My Orders" (denormalized: items with
 * names and prices, status), product search, and daily sales (kept incrementally from events, with
 * a scheduled full refresh that must agree). A read with a Consistency-Token waits until the
 * streams it names are applied here (read-your-writes), or answers 503.
 */
import { createConsumer, type Store, type Transaction } from '@causeway/core';
import { z } from 'zod';
import { consistencyHeader, decodeConsistencyToken } from '../../platform/consistency-token.ts';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { UnavailableError } from '../../platform/problem.ts';
import { runService } from '../../platform/service-runtime.ts';
import { ordersRegistry } from '../orders/orders-domain.ts';
import { sourceRegistry } from './projection-tracker.ts';
import { installQueryAdmin } from './query-admin.ts';

const ddl = [
  `CREATE TABLE IF NOT EXISTS products_view (product_id TEXT PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
     price_cents BIGINT NOT NULL, currency TEXT NOT NULL, search_text TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS my_orders (order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL,
     total_cents BIGINT NOT NULL, currency TEXT NOT NULL, created_at TEXT NOT NULL, items TEXT NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS my_orders_by_user ON my_orders (user_id, created_at)',
  'CREATE TABLE IF NOT EXISTS daily_sales (day TEXT PRIMARY KEY, orders BIGINT NOT NULL, revenue_cents BIGINT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS applied_streams (stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL)',
];
/** What a rebuild empties and replays (applied_streams too: it is the read side's position). */
const readModelTables = ['products_view', 'my_orders', 'daily_sales'];
const tokenWaitMs = 5_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const read = <Row>(store: Store, sql: string, params: unknown[] = []) =>
  store.transaction((tx) => tx.query<Row>(sql, params));

/** Recomputes daily sales from the confirmed orders; answers whether the kept view agreed. */
async function refreshDailySales(store: Store): Promise<boolean> {
  return store.transaction(async (tx) => {
    const fresh = await tx.query<{ day: string; orders: number; revenue_cents: number }>(
      `SELECT substr(created_at, 1, 10) AS day, count(*) AS orders, sum(total_cents) AS revenue_cents
         FROM my_orders WHERE status = 'CONFIRMED' GROUP BY substr(created_at, 1, 10) ORDER BY day`,
    );
    const kept = await tx.query<{ day: string; orders: number; revenue_cents: number }>(
      'SELECT day, orders, revenue_cents FROM daily_sales ORDER BY day',
    );
    const same = JSON.stringify(fresh.map(normalize)) === JSON.stringify(kept.map(normalize));
    if (!same) {
      await tx.execute('DELETE FROM daily_sales');
      for (const row of fresh) {
        await tx.execute('INSERT INTO daily_sales (day, orders, revenue_cents) VALUES ($1, $2, $3)', [
          row.day,
          Number(row.orders),
          Number(row.revenue_cents),
        ]);
      }
    }
    return same;
  });
}
const normalize = (row: { day: string; orders: number; revenue_cents: number }) => [
  row.day,
  Number(row.orders),
  Number(row.revenue_cents),
];

await runService({
  name: 'query',
  registry: ordersRegistry,
  async setup(service) {
    const { app, store, transport, addConsumer, onStart, onStop } = service;
    await store.transaction(async (tx) => {
      for (const sql of ddl) await tx.execute(sql);
    });
    const projection = await installQueryAdmin(service, { consumer: 'query', readModels: readModelTables });

    // projection.track marks each event's stream applied (applied_streams) after its handler.
    const setStatus = (tx: Transaction, orderId: string, status: string) =>
      tx.execute('UPDATE my_orders SET status = $2 WHERE order_id = $1', [orderId, status]);

    addConsumer(
      createConsumer({
        name: 'query',
        store,
        transport,
        destinations: ['catalog.events', 'orders.events', 'users.events'],
        registry: sourceRegistry,
        handlers: projection.track({
          'catalog.ProductCreated': async (event, { tx }) => {
            const p = event.data;
            await tx.execute(
              `INSERT INTO products_view (product_id, sku, name, price_cents, currency, search_text) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (product_id) DO NOTHING`,
              [p.productId, p.sku, p.name, p.priceCents, p.currency, `${p.sku} ${p.name}`.toLowerCase()],
            );
          },
          'catalog.ProductUpdated': async (event, { tx }) => {
            const p = event.data;
            if (p.name !== undefined) {
              await tx.execute(
                `UPDATE products_view SET name = $2, search_text = lower(sku || ' ' || $2) WHERE product_id = $1`,
                [p.productId, p.name],
              );
            }
            if (p.priceCents !== undefined)
              await tx.execute('UPDATE products_view SET price_cents = $2 WHERE product_id = $1', [
                p.productId,
                p.priceCents,
              ]);
          },
          'orders.OrderPlaced': async (event, { tx }) => {
            const o = event.data;
            await tx.execute(
              `INSERT INTO my_orders (order_id, user_id, status, total_cents, currency, created_at, items) VALUES ($1, $2, 'PENDING', $3, $4, $5, $6)
               ON CONFLICT (order_id) DO NOTHING`,
              [o.orderId, o.userId, o.totalCents, o.currency, o.placedAt, JSON.stringify(o.items)],
            );
          },
          'orders.OrderConfirmed': async (event, { tx }) => {
            const o = event.data;
            await setStatus(tx, o.orderId, 'CONFIRMED');
            await tx.execute(
              `INSERT INTO daily_sales (day, orders, revenue_cents) VALUES ($1, 1, $2)
               ON CONFLICT (day) DO UPDATE SET orders = daily_sales.orders + 1, revenue_cents = daily_sales.revenue_cents + excluded.revenue_cents`,
              [o.placedAt.slice(0, 10), o.totalCents],
            );
          },
          'orders.OrderCancelled': async (event, { tx }) => {
            await setStatus(tx, event.data.orderId, 'CANCELLED');
          },
          'users.UserForgotten': async (event, { tx }) => {
            await tx.execute('DELETE FROM my_orders WHERE user_id = $1', [event.data.userId]);
          },
        }),
      }),
    );

    /** Read-your-writes: waits until every stream the token names is applied, up to 5 s. */
    async function honour(token: string | undefined) {
      if (!token) return;
      const marks = decodeConsistencyToken(token);
      const deadline = Date.now() + tokenWaitMs;
      for (;;) {
        const rows = await read<{ stream_id: string; version: number }>(
          store,
          `SELECT stream_id, version FROM applied_streams WHERE stream_id IN (${marks.map((_, i) => `$${i + 1}`).join(', ') || "''"})`,
          marks.map((mark) => mark.s),
        );
        const applied = new Map(rows.map((row) => [row.stream_id, Number(row.version)]));
        if (marks.every((mark) => (applied.get(mark.s) ?? 0) >= mark.v)) return;
        if (Date.now() > deadline)
          throw new UnavailableError(
            'The read side has not caught up with your write within 5 s; retry shortly',
            1,
          );
        await pause(20);
      }
    }
    const tokenOf = (headers: Record<string, unknown>) => headers[consistencyHeader] as string | undefined;

    app.get('/products', async (request) => {
      await honour(tokenOf(request.headers));
      const { search } = parseInput(
        z.object({ search: z.string().max(200).optional() }),
        request.query,
        'query',
      );
      const rows = await read<{
        product_id: string;
        sku: string;
        name: string;
        price_cents: number;
        currency: string;
      }>(
        store,
        `SELECT product_id, sku, name, price_cents, currency FROM products_view WHERE search_text LIKE $1 ORDER BY name LIMIT 100`,
        [`%${(search ?? '').toLowerCase().replace(/[%_]/g, '')}%`],
      );
      return {
        items: rows.map((row) => ({
          id: row.product_id,
          sku: row.sku,
          name: row.name,
          priceCents: Number(row.price_cents),
          currency: row.currency,
        })),
      };
    });
    app.get('/users/:id/orders', async (request) => {
      await honour(tokenOf(request.headers));
      const { id } = parseInput(z.object({ id: pathId }), request.params, 'path');
      const rows = await read<{
        order_id: string;
        status: string;
        total_cents: number;
        currency: string;
        created_at: string;
        items: string;
      }>(
        store,
        'SELECT order_id, status, total_cents, currency, created_at, items FROM my_orders WHERE user_id = $1 ORDER BY created_at DESC',
        [id],
      );
      return {
        items: rows.map((row) => ({
          orderId: row.order_id,
          status: row.status,
          totalCents: Number(row.total_cents),
          currency: row.currency,
          createdAt: row.created_at,
          items: JSON.parse(row.items),
        })),
      };
    });
    /** The last scheduled full refresh: when, and whether the view kept from events agreed. */
    let lastCheck: { at: string; agreed: boolean } | null = null;
    app.get('/reports/daily-sales', async (request) => {
      await honour(tokenOf(request.headers));
      const rows = await read<{ day: string; orders: number; revenue_cents: number }>(
        store,
        'SELECT day, orders, revenue_cents FROM daily_sales ORDER BY day',
      );
      return {
        days: rows.map((row) => ({
          date: row.day,
          orders: Number(row.orders),
          revenueCents: Number(row.revenue_cents),
        })),
        lastCheck,
      };
    });
    app.post('/admin/daily-sales/refresh', async () => ({ agreed: await refreshDailySales(store) }));

    let timer: NodeJS.Timeout | undefined;
    onStart(async () => {
      timer = setInterval(() => {
        refreshDailySales(store).then(
          (agreed) => {
            lastCheck = { at: new Date().toISOString(), agreed };
            if (!agreed)
              console.warn('[query] daily sales: the full refresh disagreed with the kept view; replaced it');
          },
          (error) => console.warn(`[query] daily sales refresh failed: ${String(error)}`),
        );
      }, service.config.dailySalesRefreshMs);
      timer.unref();
    });
    onStop(async () => clearInterval(timer));
  },
});
