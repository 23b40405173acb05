/**
 * The gateway (BFF): the public SHOP-API under /api. Validates input (problem+json), keeps
 * Idempotency-Keys (for a day, through the Cache), passes Consistency-Tokens through, composes GET /orders/:id from four
 * services with per-call timeouts (a `partial` list names what is missing), caches the catalog's
 * part of product reads (cache-aside, invalidated by catalog events) and adds the stock on every
 * read, reports health, and serves the dashboard at `/` with its admin API under /api/admin
 * (admin-routes.ts). POST /orders goes to the orders service alone: it decides from its replicas.
 */
import { createHash } from 'node:crypto';
import { createConsumer, createEventRegistry, invalidateOnEvent } from '@causeway/core';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { loadDataProducts } from '../data-products/data-products.ts';
import { consistencyHeader } from '../platform/consistency-token.ts';
import { parseInput, pathId } from '../platform/http-input.ts';
import { log } from '../platform/log.ts';
import { sendProblem } from '../platform/problem.ts';
import { createServiceClient, type ServiceAnswer, ServiceDownError } from '../platform/service-client.ts';
import { runService } from '../platform/service-runtime.ts';
import { productUpdated, salesRankChanged } from '../services/catalog/catalog-domain.ts';
import { placeOrderRequest } from '../services/orders/orders-domain.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerAnalyticsRoutes } from './analytics-routes.ts';
import { createDashboardFeed } from './dashboard-feed.ts';
import { registerDashboard } from './dashboard-static.ts';
import { registerDataProductRoutes } from './data-product-routes.ts';
import { createIdempotency } from './idempotency.ts';
import { createProductCache, openGatewayCache } from './product-cache.ts';
import { openProductViews } from './product-views.ts';
import { healthOf } from './service-health.ts';

const idParam = z.object({ id: pathId });
const productParam = z.object({ productId: pathId });
const compositionTimeoutMs = 800;

/** A deterministic order id per Idempotency-Key: two racing duplicates place the same order. */
const orderIdFor = (key: string | undefined) => {
  if (!key) return crypto.randomUUID();
  const hex = createHash('sha256').update(`order:${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

await runService({
  name: 'gateway',
  registry: createEventRegistry([]),
  async setup({ app, config, store, transport, addConsumer, consumerLogs, reportCache }) {
    const call = createServiceClient(config);
    const feed = createDashboardFeed({ call, dataDir: config.dataDir });
    const gatewayCache = await openGatewayCache(config);
    const idempotency = createIdempotency({ store, cache: gatewayCache, ttlMs: config.idempotencyTtlMs });

    /** Sends a service's answer on, with its Consistency-Token. */
    const relay = (reply: FastifyReply, answer: ServiceAnswer) => {
      const token = answer.headers.get(consistencyHeader);
      if (token) reply.header(consistencyHeader, token);
      if (answer.status >= 400) return sendProblem(reply, answer.body as never);
      return reply.status(answer.status).send(answer.body);
    };
    const passToken = (headers: Record<string, unknown>): Record<string, string> => {
      const token = headers[consistencyHeader];
      return typeof token === 'string' ? { [consistencyHeader]: token } : {};
    };

    /** Runs a POST once per Idempotency-Key (idempotency.ts), or every time without one. */
    async function idempotent(
      key: string | undefined,
      body: unknown,
      reply: FastifyReply,
      work: () => Promise<ServiceAnswer>,
    ) {
      return relay(reply, key ? await idempotency.run(key, body, work) : await work());
    }
    const keyOf = (headers: Record<string, unknown>) => {
      const key = headers['idempotency-key'];
      return typeof key === 'string' && key.length > 0 ? key.slice(0, 200) : undefined;
    };
    /** The `:id` of a route, checked and ready for a path. */
    const idOf = (params: unknown) => encodeURIComponent(parseInput(idParam, params, 'path').id);
    const productIdOf = (params: unknown) => parseInput(productParam, params, 'path').productId;
    /** Sends a service's answer to the same call on, as it is. */
    const forward = async (
      reply: FastifyReply,
      service: string,
      method: string,
      path: string,
      options: Parameters<typeof call>[3] = {},
    ) => relay(reply, await call(service, method, path, options));
    /** The catalog's answer for a product: 200, or the 404 (or other problem) to send on. */
    const productAnswer = (productId: string) =>
      call('catalog', 'GET', `/products/${encodeURIComponent(productId)}`);
    /**
     * The product's stock as the orders service's replica has it (from inventory's events), read
     * on every request and never cached: `available` is as fresh as that replica. Orders out of
     * reach: null, and the caller names it in `partial`.
     */
    const stockOf = async (
      productId: string,
    ): Promise<{ available: number | null; availableAsOf: string | null }> => {
      const unknown = { available: null, availableAsOf: null };
      try {
        const answer = await call('orders', 'GET', `/stock/${encodeURIComponent(productId)}`, {
          timeoutMs: compositionTimeoutMs,
        });
        if (answer.status !== 200) return unknown;
        const { available, availableAsOf } = answer.body as {
          available: number;
          availableAsOf: string | null;
        };
        return { available, availableAsOf };
      } catch (error) {
        if (!(error instanceof ServiceDownError)) throw error;
        return unknown;
      }
    };
    /** The catalog's part of a product: from the cache, else from the catalog (and cached if found). */
    const views = await openProductViews(store, 'gateway');
    app.addHook('onClose', async () => views.close());
    const products = createProductCache(gatewayCache, productAnswer);
    reportCache('products', products);
    const catalogPart = (productId: string) => products.read(productId);

    await app.register(
      async (api) => {
        api.post('/users', (request, reply) =>
          idempotent(keyOf(request.headers), request.body, reply, () =>
            call('users', 'POST', '/users', { body: request.body }),
          ),
        );
        api.get('/users/:id', (request, reply) =>
          forward(reply, 'users', 'GET', `/users/${idOf(request.params)}`),
        );
        api.delete('/users/:id', (request, reply) =>
          forward(reply, 'users', 'DELETE', `/users/${idOf(request.params)}`),
        );

        api.post('/products', (request, reply) =>
          idempotent(keyOf(request.headers), request.body, reply, () =>
            call('catalog', 'POST', '/products', { body: request.body }),
          ),
        );
        api.patch('/products/:id', async (request, reply) => {
          const { id } = parseInput(idParam, request.params, 'path');
          const answer = await call('catalog', 'PATCH', `/products/${encodeURIComponent(id)}`, {
            body: request.body,
          });
          if (answer.status < 300) {
            // The write has committed: a cache out of reach must not turn it into a 5xx. The entry
            // expires within a minute, and the ProductUpdated event drops it again once Redis is back.
            await products.invalidate(id).catch((error) => {
              log.warn(
                `product cache: could not drop product ${id}; it expires within 60 s: ${String(error)}`,
              );
            });
          }
          return relay(reply, answer);
        });
        api.get('/products/:id', async (request, reply) => {
          const { id } = parseInput(idParam, request.params, 'path');
          const [{ answer, cache }, stock] = await Promise.all([catalogPart(id), stockOf(id)]);
          reply.header('x-cache', cache);
          if (answer.status !== 200) return relay(reply, answer);
          await views.record(id);
          return {
            ...(answer.body as object),
            ...stock,
            views: await views.count(id),
            ...(stock.available === null ? { partial: ['available'] } : {}),
          };
        });
        api.get('/products', (request, reply) =>
          forward(
            reply,
            'query',
            'GET',
            `/products?${new URLSearchParams(request.query as Record<string, string>)}`,
            { headers: passToken(request.headers) },
          ),
        );

        api.post<{ Params: { productId: string } }>(
          '/inventory/:productId/restock',
          async (request, reply) => {
            const productId = productIdOf(request.params);
            const product = await productAnswer(productId);
            if (product.status !== 200) return relay(reply, product);
            return idempotent(keyOf(request.headers), { productId, body: request.body }, reply, () =>
              call('inventory', 'POST', `/inventory/${encodeURIComponent(productId)}/restock`, {
                body: request.body,
              }),
            );
          },
        );
        api.get<{ Params: { productId: string } }>('/inventory/:productId', async (request, reply) => {
          const productId = productIdOf(request.params);
          const product = await productAnswer(productId);
          if (product.status !== 200) return relay(reply, product);
          return forward(reply, 'inventory', 'GET', `/inventory/${encodeURIComponent(productId)}`);
        });

        api.post('/orders', async (request, reply) => {
          const body = parseInput(placeOrderRequest, request.body);
          const key = keyOf(request.headers);
          return idempotent(key, body, reply, async () => {
            // Orders alone decides, from its replicas (an unknown user or product is its 404), so
            // an order is taken while users or catalog is down. A Consistency-Token from POST
            // /users or /products makes it wait for that write to reach its replicas.
            const placed = await call('orders', 'POST', '/orders', {
              body: { ...body, orderId: orderIdFor(key) },
              headers: passToken(request.headers),
            });
            // A duplicate racing its original (same key, same order id) finds the order placed.
            if (placed.status === 409 && key) {
              return {
                status: 202,
                body: { orderId: orderIdFor(key), status: 'PENDING' },
                headers: placed.headers,
              };
            }
            return placed;
          });
        });
        api.get('/orders/:id', async (request, reply) => {
          const { id } = parseInput(idParam, request.params, 'path');
          const order = await call('orders', 'GET', `/orders/${encodeURIComponent(id)}`, {
            timeoutMs: 5_000,
          });
          if (order.status !== 200) return relay(reply, order);
          const o = order.body as {
            id: string;
            status: string;
            userId: string;
            items: unknown[];
            totalCents: number;
            currency: string;
            cancelReason?: string;
            createdAt: string;
            placedAt: string;
            closedAt?: string;
          };
          const partial: string[] = [];
          const part = async <T>(name: string, service: string, path: string, fallback: T): Promise<T> => {
            try {
              const answer = await call(service, 'GET', path, { timeoutMs: compositionTimeoutMs });
              if (answer.status === 200) return answer.body as T;
              if (answer.status !== 404) partial.push(name);
            } catch (error) {
              if (!(error instanceof ServiceDownError)) throw error;
              partial.push(name);
            }
            return fallback;
          };
          const [user, payment, shipment] = await Promise.all([
            part('user', 'users', `/users/${encodeURIComponent(o.userId)}`, {
              id: o.userId,
              name: null as string | null,
            }),
            part('payment', 'payments', `/payments/${encodeURIComponent(id)}`, {
              status: 'UNKNOWN',
              chargedCents: null,
              refundedCents: null,
            }),
            part('shipment', 'shipping', `/shipments/${encodeURIComponent(id)}`, { status: 'UNKNOWN' }),
          ]);
          return {
            id: o.id,
            status: o.status,
            ...(o.cancelReason ? { cancelReason: o.cancelReason } : {}),
            user: { id: o.userId, name: (user as { name: string | null }).name },
            items: o.items,
            totalCents: o.totalCents,
            currency: o.currency,
            createdAt: o.createdAt,
            // Stamped by the orders service: a client measures an order's latency exactly with them.
            placedAt: o.placedAt,
            ...(o.closedAt ? { closedAt: o.closedAt } : {}),
            payment: {
              status: payment.status,
              chargedCents: payment.chargedCents,
              refundedCents: payment.refundedCents,
            },
            shipment: { status: shipment.status },
            ...(partial.length > 0 ? { partial } : {}),
          };
        });
        api.get('/users/:id/orders', (request, reply) =>
          forward(reply, 'query', 'GET', `/users/${idOf(request.params)}/orders`, {
            headers: passToken(request.headers),
          }),
        );
        api.get('/sagas/:id', (request, reply) =>
          forward(reply, 'orders', 'GET', `/sagas/${idOf(request.params)}`),
        );
        api.get('/reports/daily-sales', (request, reply) =>
          forward(reply, 'query', 'GET', '/reports/daily-sales', { headers: passToken(request.headers) }),
        );

        registerAnalyticsRoutes(api, { call, relay });
        registerDataProductRoutes(api, { call, products: loadDataProducts() });
        api.get('/health', async () => ({ services: await healthOf(call, config) }));
        registerAdminRoutes(api, { config, call, feed });
      },
      { prefix: '/api' },
    );
    registerDashboard(app);
    // The browsers' live streams never end by themselves: end them, or closing would wait forever.
    app.addHook('preClose', async () => feed.close());
    app.addHook('onClose', async () => {
      idempotency.close();
      await gatewayCache.close();
    });

    addConsumer(
      createConsumer({
        name: 'gateway',
        store,
        transport,
        ...consumerLogs,
        destinations: ['catalog.events'],
        registry: createEventRegistry([productUpdated, salesRankChanged]),
        handlers: {
          // At the event's version: a read of the product from before it cannot be cached after it.
          'catalog.ProductUpdated': invalidateOnEvent(products.cache, {
            keyOf: (event) => event.data.productId,
            ttlMs: products.ttlMs,
          }),
          // Ranks are not in the product's stream: the entry is dropped, no version remembered.
          'catalog.SalesRankChanged': invalidateOnEvent(products.cache, {
            keyOf: (event) => event.data.productId,
            versionOf: () => null,
            ttlMs: products.ttlMs,
          }),
        },
      }),
    );
  },
});
