/**
 * The catalog service: products, published on `catalog.events`, and each product's sales rank as
 * analytics sends it on `catalog.commands` (reverse ETL).
 */
import { randomUUID } from 'node:crypto';
import {
  createCommandHandler,
  createConsumer,
  createEventRegistry,
  loadAggregate,
  NotFoundError,
  newMessageId,
} from '@causeway/core';
import { z } from 'zod';
import { consistencyHeader, consistencyTokenOf } from '../../platform/consistency-token.ts';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { runService } from '../../platform/service-runtime.ts';
import {
  type CatalogCommand,
  type CatalogEvent,
  catalogRegistry,
  type ProductState,
  productDecider,
  productStream,
  salesRankChanged,
  setSalesRank,
} from './catalog-domain.ts';
import { applySalesRank, createSalesRankTable, salesRankOf } from './sales-rank-table.ts';

const createBody = z.object({
  sku: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  priceCents: z.number().int().nonnegative(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'a 3-letter currency code')
    .default('USD'),
});
const updateBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    priceCents: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((body) => body.name !== undefined || body.priceCents !== undefined, 'give name or priceCents');
const idParams = z.object({ id: pathId });

await runService({
  name: 'catalog',
  registry: catalogRegistry,
  async setup({ app, eventStore, store, transport, addConsumer, consumerLogs }) {
    await createSalesRankTable(store);
    const products = createCommandHandler<ProductState, CatalogCommand, CatalogEvent>({
      eventStore,
      decider: productDecider,
    });
    const load = async (id: string) => {
      const { state } = await loadAggregate(eventStore, productStream(id), {
        decider: productDecider,
        tx: null,
      });
      if (!state) throw new NotFoundError('Product', id);
      return state;
    };

    app.post('/products', async (request, reply) => {
      const body = parseInput(createBody, request.body);
      const id = randomUUID();
      const result = await products.handle(
        productStream(id),
        { kind: 'create', product: { id, ...body } },
        { publishTo: 'catalog.events' },
      );
      return reply.status(201).header(consistencyHeader, consistencyTokenOf(result.events)).send({ id });
    });
    app.patch('/products/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const body = parseInput(updateBody, request.body);
      await load(id);
      const result = await products.handle(
        productStream(id),
        { kind: 'update', productId: id, ...body },
        { publishTo: 'catalog.events' },
      );
      if (result.events.length > 0) reply.header(consistencyHeader, consistencyTokenOf(result.events));
      return result.state;
    });
    // The ETag is the product stream's version: the gateway caches the answer at that version.
    app.get('/products/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const { product, version } = await store.transaction(async (tx) => {
        const loaded = await loadAggregate(eventStore, productStream(id), { decider: productDecider, tx });
        if (!loaded.state) throw new NotFoundError('Product', id);
        return { product: { ...loaded.state, ...(await salesRankOf(tx, id)) }, version: loaded.version };
      });
      return reply.header('etag', `"${version}"`).send(product);
    });

    addConsumer(
      createConsumer({
        name: 'catalog',
        store,
        transport,
        ...consumerLogs,
        destinations: ['catalog.commands'],
        maxAttempts: 10,
        registry: createEventRegistry([setSalesRank]),
        handlers: {
          'catalog.SetSalesRank': async (command, { tx, send }) => {
            const { productId } = command.data;
            // A rank for a product the catalog does not have is a mistake upstream: retried (the
            // product may be on its way), then dead-lettered where an operator sees it.
            if ((await store.events.streamVersion(tx, productStream(productId))) === 0) {
              throw new NotFoundError('Product', productId);
            }
            if (!(await applySalesRank(tx, command.data))) return;
            const id = newMessageId();
            // The gateway drops its cached product on it, as on any catalog change.
            await send([
              {
                id,
                destination: 'catalog.events',
                orderingKey: productStream(productId),
                type: salesRankChanged.type,
                payload: {
                  id,
                  type: salesRankChanged.type,
                  schemaVersion: 1,
                  streamId: productStream(productId),
                  streamPosition: 0,
                  globalPosition: 0,
                  correlationId: command.correlationId ?? command.id,
                  causationId: command.id,
                  occurredAt: new Date().toISOString(),
                  metadata: {},
                  data: command.data,
                },
              },
            ]);
          },
        },
      }),
    );
  },
});
