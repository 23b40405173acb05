/**
 * Products: created with a sku, name and price; renamed and repriced. Event-sourced. Their sales
 * rank comes from analytics (reverse ETL) and is kept beside them in a table.
 */
import { createEventRegistry, type Decider, defineCommand, defineEvent, NotFoundError } from '@causeway/core';
import { z } from 'zod';
import { BusinessRuleError } from '../../platform/problem.ts';

export const productCreated = defineEvent({
  type: 'catalog.ProductCreated',
  schema: z.object({
    productId: z.string(),
    sku: z.string(),
    name: z.string(),
    priceCents: z.number().int().nonnegative(),
    currency: z.string().length(3),
  }),
});
export const productUpdated = defineEvent({
  type: 'catalog.ProductUpdated',
  schema: z.object({
    productId: z.string(),
    name: z.string().optional(),
    priceCents: z.number().int().nonnegative().optional(),
  }),
});
export const catalogRegistry = createEventRegistry([productCreated, productUpdated]);

const salesRank = z.number().int().min(1).nullable();

/**
 * Analytics' ranking of a product by units sold over the last 7 days (reverse ETL): `asOf` is the
 * ranking's time, so a rank older than the one kept is refused. Sent to `catalog.commands`.
 */
export const setSalesRank = defineCommand({
  type: 'catalog.SetSalesRank',
  schema: z.object({ productId: z.string().min(1), salesRank, asOf: z.string().datetime() }),
});
/** Published on `catalog.events` when a product's kept sales rank changed (not event-sourced). */
export const salesRankChanged = defineEvent({
  type: 'catalog.SalesRankChanged',
  schema: z.object({ productId: z.string(), salesRank, asOf: z.string().datetime() }),
});
/** Everything the catalog publishes on `catalog.events`: its events and the sales rank changes. */
export const catalogPublished = createEventRegistry([productCreated, productUpdated, salesRankChanged]);
export type SetSalesRank = z.infer<typeof setSalesRank.schema>;

export type ProductCreated = z.infer<typeof productCreated.schema>;
export type ProductUpdated = z.infer<typeof productUpdated.schema>;
export type CatalogEvent =
  | { type: 'catalog.ProductCreated'; data: ProductCreated }
  | { type: 'catalog.ProductUpdated'; data: ProductUpdated };

export interface Product {
  id: string;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
}
export type ProductState = Product | null;

export type CatalogCommand =
  | { kind: 'create'; product: Product }
  | { kind: 'update'; productId: string; name?: string; priceCents?: number };

export const productStream = (productId: string) => `product-${productId}`;

export const productDecider: Decider<ProductState, CatalogCommand, CatalogEvent> = {
  initialState: () => null,
  decide(command, state) {
    if (command.kind === 'create') {
      if (state)
        throw new BusinessRuleError('product-exists', `Product ${command.product.id} exists already`);
      const { id, ...rest } = command.product;
      return [{ type: 'catalog.ProductCreated', data: { productId: id, ...rest } }];
    }
    if (!state) throw new NotFoundError('Product', command.productId);
    const changes: ProductUpdated = { productId: command.productId };
    if (command.name !== undefined && command.name !== state.name) changes.name = command.name;
    if (command.priceCents !== undefined && command.priceCents !== state.priceCents)
      changes.priceCents = command.priceCents;
    return changes.name === undefined && changes.priceCents === undefined
      ? []
      : [{ type: 'catalog.ProductUpdated', data: changes }];
  },
  evolve(state, event) {
    if (event.type === 'catalog.ProductCreated') {
      const { productId, ...rest } = event.data;
      return { id: productId, ...rest };
    }
    if (!state) return state;
    return {
      ...state,
      ...(event.data.name !== undefined ? { name: event.data.name } : {}),
      ...(event.data.priceCents !== undefined ? { priceCents: event.data.priceCents } : {}),
    };
  },
};
