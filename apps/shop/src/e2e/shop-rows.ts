/**
 * Every row of SHOP-API.md through the gateway, with the services in their own processes: run
 * on embedded defaults by shop.e2e.test.ts and on PostgreSQL + NATS by shop-postgres-nats.e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendServiceNames, loadConfig, portOf } from '../config.ts';
import { analyticsRows } from './analytics-rows.ts';
import { analyticsUpkeepRows } from './analytics-upkeep-rows.ts';
import { dataProductRows } from './data-product-rows.ts';
import { reverseEtlRows } from './reverse-etl-rows.ts';
import { pause, type RunningShop, startShop, until } from './running-shop.ts';
import { type Answer, shopApi } from './shop-api.ts';
import { processesOf } from './shop-processes.ts';

let shop: RunningShop;

const api = shopApi(() => shop.api);

const finished = (orderId: string) =>
  until(
    () => api('GET', `/orders/${orderId}`),
    (answer) => answer.status === 200 && answer.body.status !== 'PENDING',
  );

const rowsAdminToken = 'shop-rows-admin-token';

async function newUser(name = 'Ada Lovelace', email = 'ada@example.com') {
  const created = await api('POST', '/users', { name, email });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function newProduct(stock: number, priceCents = 450, name = 'Green tea', currency = 'USD') {
  const created = await api('POST', '/products', {
    sku: `SKU-${Math.random().toString(36).slice(2, 8)}`,
    name,
    priceCents,
    currency,
  });
  expect(created.status).toBe(201);
  const restocked = await api('POST', `/inventory/${created.body.id}/restock`, { quantity: stock });
  expect(restocked.status).toBe(200);
  return created.body.id as string;
}

const order = (userId: string, productId: string, token: string, extra: Record<string, unknown> = {}) => ({
  userId,
  items: [{ productId, quantity: 2 }],
  payment: { token },
  ...extra,
});

function expectProblem(answer: Answer, status: number) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body).toMatchObject({
    status,
    title: expect.any(String),
    detail: expect.any(String),
    type: expect.any(String),
  });
}

/** Processes beyond one per service that the run's SHOP_INSTANCES asks for. */
function extraInstances(env: Record<string, string>): number {
  const { instances } = loadConfig([], { SHOP_INSTANCES: env.SHOP_INSTANCES });
  return Object.values(instances).reduce((sum, count) => sum + count - 1, 0);
}

export interface ShopRowsOptions {
  /** Settings of this run (the payment deadline is set here). */
  env: () => Record<string, string>;
  /** SQLite files in DATA_DIR to scan for a forgotten user's plaintext (embedded runs). */
  scansDatabaseFiles: boolean;
  /** The shop's NATS (PostgreSQL runs): shipping's table changes are published there by CDC. */
  changeCapture?: { natsUrl: string; streamPrefix: string };
}

/** Every file under `dir` (SQLite files and their WAL, the transport's log, logs/), relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * Where each text sits in the services' PostgreSQL databases: `<database>.<schema>.<table>` for
 * every row whose text form holds it (JSON columns included). Empty when the run is not on PostgreSQL.
 */
async function postgresTablesHolding(
  env: Record<string, string>,
  texts: readonly string[],
): Promise<string[]> {
  const { SHOP_POSTGRES_URL: url, SHOP_POSTGRES_DB_PREFIX: prefix } = env;
  if (!url || !prefix) return [];
  const found: string[] = [];
  for (const service of [...backendServiceNames, 'gateway']) {
    const database = new URL(url);
    database.pathname = `/${prefix}_${service}`;
    const client = new pg.Client({ connectionString: database.toString() });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      for (const { schema, name } of tables) {
        const table = `"${schema}"."${name}"`;
        for (const text of texts) {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${table} AS row WHERE strpos(row::text, $1) > 0`,
            [text],
          );
          if (rows[0]!.n > 0)
            found.push(`${prefix}_${service}.${schema}.${name} holds ${JSON.stringify(text)}`);
        }
      }
    } finally {
      await client.end();
    }
  }
  return found;
}

export function describeShopRows(title: string, options: ShopRowsOptions): void {
  describe(title, () => {
    beforeAll(async () => {
      shop = await startShop({
        ...options.env(),
        // Dev mode keeps admin actions open to the rows; personal data still needs the token.
        SHOP_ADMIN_TOKEN: rowsAdminToken,
        SHOP_DEV: 'true',
        SHOP_PAYMENT_TIMEOUT_MS: '1500',
        SHOP_DAILY_SALES_REFRESH_MS: '300',
        SHOP_SALES_RANK_SYNC_MS: '500',
        SHOP_ANALYTICS_QUALITY_MS: '1000',
      });
    }, 120_000);
    afterAll(async () => shop?.stop());

    it('GET /health lists every service up, with its pid', async () => {
      const health = await api('GET', '/health');
      expect(health.status).toBe(200);
      expect(Object.keys(health.body.services).sort()).toEqual([
        'analytics',
        'catalog',
        'gateway',
        'inventory',
        'orders',
        'payments',
        'query',
        'shipping',
        'users',
      ]);
      const processes = processesOf(health.body.services);
      expect(processes.length).toBe(9 + extraInstances(options.env()));
      for (const { status, pid, url } of Object.values(processes)) {
        expect(status).toBe('up');
        expect(pid).toBeGreaterThan(0);
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      }
      expect(new Set(processes.map(({ pid }) => pid)).size).toBe(processes.length);
      expect(new Set(processes.map(({ url }) => url)).size).toBe(processes.length);
      // What npm run load sums into CPU per order: every process, the gateway too, with its pid.
      const cpu = await api('GET', '/admin/cpu');
      expect(Object.keys(cpu.body.processes).sort()).toEqual(processes.map(({ name }) => name).sort());
      for (const { name, pid } of processes) {
        const usage = cpu.body.processes[name] as { pid: number; userMs: number; systemMs: number };
        expect(usage.pid).toBe(pid);
        expect(usage.userMs + usage.systemMs).toBeGreaterThan(0);
      }
    });

    it('tok_visa: CONFIRMED, charged exactly the total, shipment scheduled, stock sold, saga steps in order', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const sentAt = Date.now();
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_visa'));
      expect(placed.status).toBe(202);
      expect(placed.body).toEqual({ orderId: expect.any(String), status: 'PENDING' });
      const pending = await api('GET', `/orders/${placed.body.orderId}`);
      if (pending.body.status === 'PENDING') expect(pending.body.closedAt).toBeUndefined();
      const done = await finished(placed.body.orderId);
      // The orders service's own stamps, for exact latency: placed after the request was sent
      // (same machine, same clock), closed after placed, and closed no later than seen closed.
      const placedAt = Date.parse(done.body.placedAt);
      const closedAt = Date.parse(done.body.closedAt);
      expect(placedAt).toBeGreaterThanOrEqual(sentAt - 5);
      expect(closedAt).toBeGreaterThan(placedAt);
      expect(closedAt).toBeLessThanOrEqual(Date.now() + 5);
      expect(done.body).toMatchObject({
        status: 'CONFIRMED',
        user: { id: userId, name: 'Ada Lovelace' },
        items: [{ productId, name: 'Green tea', unitPriceCents: 450, quantity: 2 }],
        totalCents: 900,
        currency: 'USD',
        payment: { status: 'CHARGED', chargedCents: 900, refundedCents: 0 },
        shipment: { status: 'SCHEDULED' },
      });
      const saga = await api('GET', `/sagas/${placed.body.orderId}`);
      expect(saga.body.status).toBe('completed');
      expect(
        saga.body.steps.map((step: { name: string; status: string }) => [step.name, step.status]),
      ).toEqual([
        ['createOrder', 'succeeded'],
        ['reserveInventory', 'succeeded'],
        ['processPayment', 'succeeded'],
        ['shipOrder', 'succeeded'],
      ]);
      const stock = await until(
        () => api('GET', `/inventory/${productId}`),
        (answer) => answer.body.reserved === 0,
      );
      expect(stock.body).toEqual({ productId, available: 8, reserved: 0 });
    });

    it('tok_declined: CANCELLED, nothing charged, stock released, compensations in reverse', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_declined'));
      const done = await finished(placed.body.orderId);
      expect(done.body.status).toBe('CANCELLED');
      expect(done.body.cancelReason).toContain('card declined');
      expect(Date.parse(done.body.closedAt)).toBeGreaterThan(Date.parse(done.body.placedAt));
      expect(done.body.payment).toEqual({ status: 'DECLINED', chargedCents: 0, refundedCents: 0 });
      expect((await api('GET', `/inventory/${productId}`)).body).toEqual({
        productId,
        available: 10,
        reserved: 0,
      });
      const saga = await api('GET', `/sagas/${placed.body.orderId}`);
      expect(saga.body.status).toBe('compensated');
      // A declined card is final: no retries.
      expect(saga.body.steps[2]).toMatchObject({ name: 'processPayment', status: 'failed', attempts: 1 });
      expect(saga.body.compensations.map((c: { name: string }) => c.name)).toEqual([
        'releaseInventory',
        'cancelOrder',
      ]);
    });

    it('tok_timeout: the payment step times out, CANCELLED, stock released', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_timeout'));
      const done = await finished(placed.body.orderId);
      expect(done.body.status).toBe('CANCELLED');
      expect(done.body.cancelReason).toMatch(/no reply within 1500 ms/);
      expect(done.body.payment).toMatchObject({ chargedCents: 0, refundedCents: 0 });
      expect((await api('GET', `/inventory/${productId}`)).body).toEqual({
        productId,
        available: 10,
        reserved: 0,
      });
    });

    it('tok_flaky: fails twice, then approved on a retry: CONFIRMED, charged once', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_flaky'));
      const done = await finished(placed.body.orderId);
      expect(done.body.status).toBe('CONFIRMED');
      expect(done.body.payment).toEqual({ status: 'CHARGED', chargedCents: 900, refundedCents: 0 });
      const saga = await api('GET', `/sagas/${placed.body.orderId}`);
      expect(saga.body.steps[2]).toMatchObject({ name: 'processPayment', status: 'succeeded', attempts: 3 });
    });

    it('shipping to country XX is refused: payment refunded, stock released, CANCELLED', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const placed = await api(
        'POST',
        '/orders',
        order(userId, productId, 'tok_visa', { shippingAddress: { country: 'XX' } }),
      );
      const done = await finished(placed.body.orderId);
      expect(done.body.status).toBe('CANCELLED');
      expect(done.body.shipment.status).toBe('REFUSED');
      expect(done.body.payment).toEqual({ status: 'REFUNDED', chargedCents: 900, refundedCents: 900 });
      const saga = await api('GET', `/sagas/${placed.body.orderId}`);
      expect(saga.body.steps[3]).toMatchObject({ name: 'shipOrder', status: 'failed', attempts: 1 });
      expect((await api('GET', `/inventory/${productId}`)).body).toEqual({
        productId,
        available: 10,
        reserved: 0,
      });
    });

    it('an order keeps the name and price it was placed with; a later PATCH changes new orders only', async () => {
      const userId = await newUser();
      const productId = await newProduct(10, 500, 'Black tea');
      const first = await api('POST', '/orders', order(userId, productId, 'tok_visa'));
      await finished(first.body.orderId);
      // Cached by the gateway (cache-aside): the second read is a hit.
      await api('GET', `/products/${productId}`);
      expect((await api('GET', `/products/${productId}`)).headers.get('x-cache')).toBe('hit');
      expect(
        (await api('PATCH', `/products/${productId}`, { name: 'Earl Grey', priceCents: 700 })).status,
      ).toBe(200);
      // The change invalidated the cached product: the next reads show it.
      for (let read = 0; read < 2; read++) {
        expect((await api('GET', `/products/${productId}`)).body).toMatchObject({
          name: 'Earl Grey',
          priceCents: 700,
        });
      }
      const old = await api('GET', `/orders/${first.body.orderId}`);
      expect(old.body.items).toEqual([{ productId, name: 'Black tea', unitPriceCents: 500, quantity: 2 }]);
      expect(old.body.totalCents).toBe(1_000);
      const later = await until(
        async () => {
          const placed = await api('POST', '/orders', order(userId, productId, 'tok_visa'));
          return finished(placed.body.orderId);
        },
        (answer) => answer.body.items[0].unitPriceCents === 700,
        { timeoutMs: 10_000 },
      );
      expect(later.body.items[0]).toMatchObject({ name: 'Earl Grey', unitPriceCents: 700 });
    });

    it('product views (write-back): every answered GET /products/:id counts once, a 404 does not', async () => {
      const productId = await newProduct(1);
      expect((await api('GET', `/products/${productId}`)).body.views).toBe(1);
      const burst = await Promise.all(Array.from({ length: 30 }, () => api('GET', `/products/${productId}`)));
      // Each answer counts its own view and those before it: never fewer than its place, never more than all.
      for (const answer of burst) expect(answer.body.views).toBeGreaterThanOrEqual(2);
      expect(Math.max(...burst.map((answer) => answer.body.views))).toBe(31);
      expect((await api('GET', '/products/no-such-product')).status).toBe(404);
      // Past the write-back's flush (every second), the count is the table's, and still exact.
      await pause(1_500);
      expect((await api('GET', `/products/${productId}`)).body.views).toBe(32);
    });

    it('Idempotency-Key: the same body returns the first order; another body is a 409', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const key = `key-${Math.random()}`;
      const body = order(userId, productId, 'tok_visa');
      const [a, b] = await Promise.all([
        api('POST', '/orders', body, { 'idempotency-key': key }),
        api('POST', '/orders', body, { 'idempotency-key': key }),
      ]);
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(b.body.orderId).toBe(a.body.orderId);
      expect((await api('POST', '/orders', body, { 'idempotency-key': key })).body.orderId).toBe(
        a.body.orderId,
      );
      expectProblem(
        await api(
          'POST',
          '/orders',
          { ...body, payment: { token: 'tok_declined' } },
          { 'idempotency-key': key },
        ),
        409,
      );
      await finished(a.body.orderId);
      const mine = await until(
        () => api('GET', `/users/${userId}/orders`),
        (answer) => answer.body.items.length > 0 && answer.body.items[0].status !== 'PENDING',
      );
      expect(mine.body.items.map((item: { orderId: string }) => item.orderId)).toEqual([a.body.orderId]);
      expect((await api('GET', `/inventory/${productId}`)).body.available).toBe(8);
    });

    it('the last unit: of 8 concurrent orders exactly one is CONFIRMED; stock never negative', async () => {
      const userId = await newUser();
      const productId = await newProduct(1);
      const placed = await Promise.all(
        Array.from({ length: 8 }, () =>
          api('POST', '/orders', {
            userId,
            items: [{ productId, quantity: 1 }],
            payment: { token: 'tok_visa' },
          }),
        ),
      );
      const outcomes = await Promise.all(placed.map((answer) => finished(answer.body.orderId)));
      expect(outcomes.filter((answer) => answer.body.status === 'CONFIRMED')).toHaveLength(1);
      expect(outcomes.filter((answer) => answer.body.status === 'CANCELLED')).toHaveLength(7);
      expect((await api('GET', `/inventory/${productId}`)).body).toEqual({
        productId,
        available: 0,
        reserved: 0,
      });
    });

    it('orders of two lines racing for the last unit of each: all lines reserved or none, nothing left reserved', async () => {
      const userId = await newUser();
      const [first, second] = [await newProduct(1), await newProduct(1)];
      const placed = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          api('POST', '/orders', {
            userId,
            // Half the orders list the lines the other way round.
            items:
              i % 2 === 0
                ? [
                    { productId: first, quantity: 1 },
                    { productId: second, quantity: 1 },
                  ]
                : [
                    { productId: second, quantity: 1 },
                    { productId: first, quantity: 1 },
                  ],
            payment: { token: 'tok_visa' },
          }),
        ),
      );
      const outcomes = await Promise.all(placed.map((answer) => finished(answer.body.orderId)));
      const confirmed = outcomes.filter((answer) => answer.body.status === 'CONFIRMED').length;
      expect(confirmed).toBeLessThanOrEqual(1);
      for (const productId of [first, second]) {
        const stock = await until(
          () => api('GET', `/inventory/${productId}`),
          (answer) => answer.body.reserved === 0,
        );
        expect(stock.body).toEqual({ productId, available: 1 - confirmed, reserved: 0 });
      }
    });

    it('read-your-writes: with the Consistency-Token, My Orders shows the order at once; it agrees with the orders', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_visa'));
      const token = placed.headers.get('consistency-token');
      expect(token).toBeTruthy();
      const mine = await api('GET', `/users/${userId}/orders`, undefined, { 'consistency-token': token! });
      expect(mine.status).toBe(200);
      expect(mine.body.items.map((item: { orderId: string }) => item.orderId)).toEqual([placed.body.orderId]);
      const done = await finished(placed.body.orderId);
      const agreed = await until(
        () => api('GET', `/users/${userId}/orders`),
        (answer) => answer.body.items[0]?.status === done.body.status,
      );
      expect(agreed.body.items[0]).toMatchObject({
        orderId: done.body.id,
        status: done.body.status,
        totalCents: done.body.totalCents,
        items: done.body.items,
      });
      const search = await api('GET', `/products?search=green`, undefined, { 'consistency-token': token! });
      expect(search.status).toBe(200);
      expectProblem(
        await api('GET', `/users/${userId}/orders`, undefined, { 'consistency-token': 'nonsense!' }),
        400,
      );
    });

    it('the right to be forgotten: 202, then 404, and no plaintext name, email or street address in any file or table', async () => {
      const name = `Zelda Forgetme ${Math.random().toString(36).slice(2, 8)}`;
      const email = `zelda.${Math.random().toString(36).slice(2, 8)}@example.org`;
      // Free text on the user's orders: it travels in the saga's command to shipping.
      const street = `${Math.floor(Math.random() * 900) + 100} Forgetme Lane, flat ${Math.random().toString(36).slice(2, 8)}`;
      const shippingAddress = { country: 'DE', street, city: 'Berlin' };
      const userId = await newUser(name, email);
      const productId = await newProduct(10);
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_visa', { shippingAddress }));
      expect((await finished(placed.body.orderId)).body.status).toBe('CONFIRMED');
      // The orders service itself (not the gateway) shows the address it sealed, while the user is known.
      const ordersService = `http://127.0.0.1:${portOf({ port: Number(new URL(shop.api).port) } as never, 'orders')}`;
      const orderInOrders = () =>
        fetch(`${ordersService}/orders/${placed.body.orderId}`).then((response) => response.json());
      expect(await orderInOrders()).toMatchObject({ shipToCountry: 'DE', shippingAddress });
      expect((await api('GET', `/users/${userId}`)).body).toEqual({ id: userId, name, email });
      expect((await api('DELETE', `/users/${userId}`)).status).toBe(202);
      expectProblem(await api('GET', `/users/${userId}`), 404);
      await until(
        () => api('GET', `/users/${userId}/orders`),
        (answer) => answer.body.items.length === 0,
      );
      expect((await api('GET', `/orders/${placed.body.orderId}`)).body.user).toEqual({
        id: userId,
        name: null,
      });
      // UserForgotten reached orders: its key for the user is gone, the address reads as forgotten;
      // the country stays (analytics by country; alone it names no one).
      const forgottenInOrders = await until(orderInOrders, (body) => body.shippingAddress === '[forgotten]');
      expect(forgottenInOrders).toMatchObject({ shipToCountry: 'DE', shippingAddress: '[forgotten]' });
      // Analytics too: once gold has the user's UserForgotten (its customer row says forgotten),
      // and gold and bronze are exported as Parquet, its DuckDB file, WAL and exports are among
      // the files scanned below. The row is found by its pseudonymous key (models/silver/customers.sql).
      const customerKey = createHash('sha256').update(`causeway-customer:${userId}`).digest('hex');
      await until(
        () => api('GET', '/analytics/customers?top=100'),
        (answer) =>
          answer.body.rows.find((row: { customerKey: string }) => row.customerKey === customerKey)
            ?.forgotten === true,
        { timeoutMs: 30_000 },
      );
      expect((await api('POST', '/analytics/exports')).status).toBe(200);
      const files = filesUnder(shop.dataDir);
      expect(files.some((file) => file.endsWith('analytics.duckdb'))).toBe(true);
      expect(files.some((file) => file.endsWith('.parquet'))).toBe(true);
      if (options.scansDatabaseFiles)
        expect(files.filter((f) => f.includes('.db')).length).toBeGreaterThan(8);
      expect(files.filter((f) => f.endsWith('.log')).length).toBeGreaterThanOrEqual(8);
      for (const file of files) {
        const bytes = readFileSync(join(shop.dataDir, file));
        expect(bytes.includes(name), `${file} holds the name`).toBe(false);
        expect(bytes.includes(email), `${file} holds the email`).toBe(false);
        expect(bytes.includes(street), `${file} holds the street address`).toBe(false);
      }
      expect(await postgresTablesHolding(options.env(), [name, email, street])).toEqual([]);
    });

    it('bad input: the right 4xx as problem+json, and nothing written', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const before = await api('GET', `/users/${userId}/orders`);
      expectProblem(await api('POST', '/orders', '{"userId": '), 400);
      const wrongTypes = await api('POST', '/orders', { userId: 42, items: 'many', payment: {} });
      expectProblem(wrongTypes, 400);
      expect(Object.keys(wrongTypes.body.errors)).toEqual(expect.arrayContaining(['userId', 'items']));
      expectProblem(
        await api('POST', '/orders', {
          userId,
          items: [{ productId, quantity: -1 }],
          payment: { token: 'tok_visa' },
        }),
        400,
      );
      expectProblem(await api('POST', '/orders', order(userId, 'no-such-product', 'tok_visa')), 404);
      // One total per order: products priced in two currencies are refused, nothing reserved.
      const inEuros = await newProduct(10, 400, 'Matcha', 'EUR');
      const mixed = await api('POST', '/orders', {
        ...order(userId, productId, 'tok_visa'),
        items: [
          { productId, quantity: 1 },
          { productId: inEuros, quantity: 1 },
        ],
      });
      expectProblem(mixed, 422);
      expect(mixed.body.type).toMatch(/mixed-currencies$/);
      expectProblem(await api('POST', '/orders', order('no-such-user', productId, 'tok_visa')), 404);
      expectProblem(await api('GET', '/orders/no-such-order'), 404);
      expectProblem(await api('POST', '/inventory/no-such-product/restock', { quantity: 3 }), 404);
      expectProblem(await api('POST', `/inventory/${productId}/restock`, { quantity: 0 }), 400);
      expectProblem(await api('POST', '/users', { name: 'x', email: 'not an email' }), 400);
      expectProblem(await api('POST', '/products', { sku: 'A', name: 'B', priceCents: -5 }), 400);
      expectProblem(
        await api('POST', '/orders', {
          ...order(userId, productId, 'tok_visa'),
          padding: 'x'.repeat(1024 * 1024),
        }),
        413,
      );
      await pause(500);
      expect((await api('GET', `/users/${userId}/orders`)).body).toEqual(before.body);
      expect((await api('GET', `/inventory/${productId}`)).body).toEqual({
        productId,
        available: 10,
        reserved: 0,
      });
      expect((await api('GET', `/inventory/${inEuros}`)).body).toEqual({
        productId: inEuros,
        available: 10,
        reserved: 0,
      });
    });

    it('GET /orders/:id with payments and shipping stopped (SIGSTOP): 200 with what is known, and partial', async () => {
      const userId = await newUser();
      const productId = await newProduct(10);
      const placed = await api('POST', '/orders', order(userId, productId, 'tok_visa'));
      const done = await finished(placed.body.orderId);
      expect(done.body.status).toBe('CONFIRMED');
      const processes = processesOf((await api('GET', '/health')).body.services);
      const stopped = processes
        .filter(({ service }) => service === 'payments' || service === 'shipping')
        .map(({ pid }) => pid);
      for (const pid of stopped) process.kill(pid, 'SIGSTOP');
      try {
        const composed = await api('GET', `/orders/${placed.body.orderId}`);
        expect(composed.status).toBe(200);
        expect(composed.body).toMatchObject({
          id: placed.body.orderId,
          status: 'CONFIRMED',
          user: { id: userId, name: 'Ada Lovelace' },
          totalCents: done.body.totalCents,
          payment: { status: 'UNKNOWN' },
          shipment: { status: 'UNKNOWN' },
        });
        expect([...composed.body.partial].sort()).toEqual(['payment', 'shipment']);
      } finally {
        for (const pid of stopped) process.kill(pid, 'SIGCONT');
      }
      const again = await until(
        () => api('GET', `/orders/${placed.body.orderId}`),
        (answer) => answer.status === 200 && answer.body.partial === undefined,
      );
      expect(again.body).toMatchObject({ payment: { status: 'CHARGED' }, shipment: { status: 'SCHEDULED' } });
    });

    it.runIf(options.changeCapture !== undefined)(
      "shipping's table changes are published by change data capture: SCHEDULED for a confirmed order, REFUSED for country XX",
      async () => {
        const { createNatsTransport } = await import('@causeway/nats');
        const transport = createNatsTransport({
          servers: options.changeCapture!.natsUrl,
          streamPrefix: options.changeCapture!.streamPrefix,
        });
        const changes: Array<{
          id: string;
          type: string;
          orderingKey: string;
          op: string;
          orderId: string;
          status: string;
        }> = [];
        const subscription = await transport.subscribe(
          { group: `e2e-cdc-${Math.random().toString(36).slice(2, 8)}`, destinations: ['shipping.changes'] },
          async (delivery) => {
            const { message } = delivery;
            const data = (
              message.payload as {
                data: { op: string; key: { order_id: string }; after: { status: string } };
              }
            ).data;
            changes.push({
              id: message.id,
              type: message.type,
              orderingKey: message.orderingKey,
              op: data.op,
              orderId: data.key.order_id,
              status: data.after.status,
            });
            await delivery.ack();
          },
        );
        try {
          const userId = await newUser();
          const productId = await newProduct(10);
          const confirmed = (await api('POST', '/orders', order(userId, productId, 'tok_visa'))).body
            .orderId as string;
          // Shipping is the last step: a declined card never reaches it, a refused country does.
          const refused = (
            await api(
              'POST',
              '/orders',
              order(userId, productId, 'tok_visa', { shippingAddress: { country: 'XX' } }),
            )
          ).body.orderId as string;
          expect((await finished(confirmed)).body.status).toBe('CONFIRMED');
          expect((await finished(refused)).body.status).toBe('CANCELLED');
          const of = (orderId: string) => changes.filter((change) => change.orderId === orderId);
          await until(
            async () => [...of(confirmed), ...of(refused)],
            (seen) => seen.length >= 2,
            { timeoutMs: 20_000 },
          );
          expect(of(confirmed).map((change) => [change.type, change.op, change.status])).toEqual([
            ['shipping.ShipmentChanged', 'c', 'SCHEDULED'],
          ]);
          expect(of(refused).map((change) => [change.op, change.status])).toEqual([['c', 'REFUSED']]);
          expect(of(confirmed)[0]!.orderingKey).toBe(`shop.shipments:["${confirmed}"]`);
        } finally {
          await subscription.close();
          await transport.close();
        }
      },
    );

    it('daily sales: kept from events, and the scheduled full refresh runs and agrees', async () => {
      // Every order above has ended: a refresh from now on compares the view with all of them.
      const since = new Date().toISOString();
      const report = await until(
        () => api('GET', '/reports/daily-sales'),
        (answer) => answer.body.days.length > 0 && (answer.body.lastCheck?.at ?? '') > since,
        { timeoutMs: 10_000 },
      );
      expect(report.body.lastCheck).toEqual({ at: expect.any(String), agreed: true });
      expect(report.body.days[0]).toMatchObject({
        date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        orders: expect.any(Number),
        revenueCents: expect.any(Number),
      });
      expect(
        report.body.days.reduce((sum: number, day: { orders: number }) => sum + day.orders, 0),
      ).toBeGreaterThan(0);
    });

    it('GET <service url>/metrics: every process in Prometheus text format, with the outbox, dead letters, sagas and handling times', async () => {
      const processes = processesOf((await api('GET', '/health')).body.services);
      const texts = new Map<string, string>();
      for (const { name, url } of processes) {
        const response = await fetch(`${url}/metrics`);
        expect(response.status, name).toBe(200);
        expect(response.headers.get('content-type'), name).toContain('text/plain; version=0.0.4');
        texts.set(name, await response.text());
      }
      for (const [name, text] of texts) {
        for (const series of [
          /^causeway_outbox_backlog_messages \d+$/m,
          /^causeway_outbox_oldest_age_seconds [\d.e-]+$/m,
          /^causeway_outbox_published_total \d+$/m,
          /^causeway_dead_letters\{status="dead"\} \d+$/m,
          /^causeway_sagas\{status="running"\} \d+$/m,
          /^process_cpu_user_seconds_total [\d.e-]+$/m,
        ])
          expect(text, `${name} ${series}`).toMatch(series);
      }
      // Every order above went through payments: its consumer handled commands, each timed.
      const handled = (text: string, consumer: string) =>
        [
          ...text.matchAll(
            new RegExp(
              `^causeway_message_handling_seconds_count\\{consumer="${consumer}",type="[^"]+",outcome="acked"\\} (\\d+)$`,
              'gm',
            ),
          ),
        ]
          .map((match) => Number(match[1]))
          .reduce((sum, count) => sum + count, 0);
      const paymentsHandled = processes
        .filter(({ service }) => service === 'payments')
        .reduce((sum, { name }) => sum + handled(texts.get(name)!, 'payments'), 0);
      expect(paymentsHandled).toBeGreaterThan(0);
      expect(texts.get('query')).toMatch(/^causeway_projection_lag_positions\{projection="[^"]+"\} \d+$/m);
      expect(texts.get('orders')).toMatch(/^causeway_sagas\{status="completed"\} [1-9]\d*$/m);
      expect(texts.get('orders')).toMatch(/^causeway_append_seconds_count\{outcome="ok"\} [1-9]\d*$/m);
      // The rows above read products through the gateway's cache.
      expect(texts.get('gateway')).toMatch(
        /^causeway_cache_reads_total\{cache="products",result="hit"\} [1-9]\d*$/m,
      );
      // On PostgreSQL, shipping's change capture holds a slot in shipping's database.
      if (options.changeCapture)
        expect(
          processes
            .filter(({ service }) => service === 'shipping')
            .some(({ name }) =>
              /^causeway_cdc_slot_lag_bytes\{slot="[^"]+_shipments",active="true"\} \d+$/m.test(
                texts.get(name)!,
              ),
            ),
        ).toBe(true);
    });

    // Before the rows that SIGKILL a service (reverse ETL), whose counts would start again.
    it.runIf(extraInstances(options.env()) > 0)(
      'several processes of a service share its work: each answered calls, and each of a writing service published its own events',
      async () => {
        const health = await api('GET', '/health');
        const work = new Map<string, { requests: number; published: number }>();
        for (const { name, url } of processesOf(health.body.services)) {
          if (name === 'gateway') continue;
          const info = await fetch(`${url}/admin/info`).then((response) => response.json());
          work.set(name, info.work);
        }
        const several = Object.entries<{ instances?: unknown[] }>(health.body.services)
          .filter(([, service]) => service.instances !== undefined)
          .map(([name]) => name);
        expect(several.length).toBeGreaterThan(0);
        const idle: string[] = [];
        for (const service of several) {
          for (const [name, done] of work) {
            if (name !== service && !name.startsWith(`${service}-`)) continue;
            if (done.requests === 0) idle.push(`${name} answered no call`);
            // Their HTTP writes append events in the process that takes them, which publishes them.
            if (['users', 'catalog', 'inventory', 'orders'].includes(service) && done.published === 0)
              idle.push(`${name} published nothing`);
          }
        }
        expect(idle, JSON.stringify(Object.fromEntries(work))).toEqual([]);
      },
    );

    analyticsRows(api, () => shop.api, { newUser, newProduct, finished, adminToken: rowsAdminToken });
    dataProductRows(api, () => shop.api);
    reverseEtlRows(api, () => shop.api, { newUser, newProduct, finished, adminToken: rowsAdminToken });
    analyticsUpkeepRows(api);
  });
}
