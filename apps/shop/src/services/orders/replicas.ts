/**
 * What the orders service keeps of other services' data, from their events, so that it decides an
 * order alone, with catalog and users down: each product's name, price and currency
 * (`catalog.events`), which user ids exist and which were forgotten (`users.events`: the id and
 * that fact only, never the sealed name or email), and each product's available stock
 * (`inventory.events`, for GET /products/:id). Every entry records the version of the source stream
 * it reflects: a Consistency-Token from a write in users or catalog can be waited for, and an event
 * older than the entry changes nothing.
 */
import {
  createEventRegistry,
  type Message,
  type MessageHandlers,
  NotFoundError,
  type Store,
  type Transaction,
} from '@causeway/core';
import { decodeConsistencyHeader } from '../../platform/consistency-token.ts';
import { UnavailableError } from '../../platform/problem.ts';
import { productCreated, productStream, productUpdated } from '../catalog/catalog-domain.ts';
import { inventoryRegistry } from '../inventory/inventory-domain.ts';
import { userForgotten, userRegistered, userStream } from '../users/users-domain.ts';

const collections = {
  products: 'catalog_replica',
  users: 'users_replica',
  stock: 'stock_replica',
} as const;

export interface ReplicaProduct {
  name: string;
  priceCents: number;
  currency: string;
  /** The product stream's version (absent on entries written before versions were kept). */
  version?: number;
}
interface ReplicaUser {
  status: 'active' | 'forgotten';
  version: number;
}
interface ReplicaStock {
  available: number;
  /** When inventory's event that set `available` happened. */
  asOf: string;
  version: number;
}

/** The events the replicas are kept from, validated on arrival against their owners' definitions. */
export const replicaSources = [
  productCreated,
  productUpdated,
  userRegistered,
  userForgotten,
  ...inventoryRegistry.definitions,
] as const;
const replicaRegistry = createEventRegistry([...replicaSources]);
type ReplicaHandlers = MessageHandlers<(typeof replicaRegistry.definitions)[number]>;

/** How long POST /orders waits for an id its replicas do not know yet, and for a Consistency-Token. */
export interface ReplicaWaits {
  unknownIdMs: number;
  tokenMs: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createOrderReplicas(store: Store, waits: ReplicaWaits) {
  const get = <T>(collection: string, id: string, tx: Transaction | null = null) =>
    store.documents.get<T>(tx, collection, id);

  /** The stock level an inventory event carries, kept if it is newer than what is kept. */
  async function keepStock(event: Message, tx: Transaction) {
    const data = event.data as { productId: string; availableAfter?: number };
    // Stored before inventory put the level in its events: it cannot say what the level is.
    if (data.availableAfter === undefined) return;
    const kept = await get<ReplicaStock>(collections.stock, data.productId, tx);
    if (kept && kept.version >= event.streamPosition) return;
    await store.documents.put(tx, collections.stock, data.productId, {
      available: data.availableAfter,
      asOf: event.occurredAt,
      version: event.streamPosition,
    } satisfies ReplicaStock);
  }

  const handlers: ReplicaHandlers = {
    'catalog.ProductCreated': async (event, { tx }) => {
      const { productId, name, priceCents, currency } = event.data;
      await store.documents.put(tx, collections.products, productId, {
        name,
        priceCents,
        currency,
        version: event.streamPosition,
      } satisfies ReplicaProduct);
    },
    'catalog.ProductUpdated': async (event, { tx }) => {
      const { data } = event;
      const current = await get<ReplicaProduct>(collections.products, data.productId, tx);
      if (!current)
        throw new Error(
          `catalog replica: update of unknown product ${data.productId} (its creation is not here yet)`,
        );
      await store.documents.put(tx, collections.products, data.productId, {
        ...current,
        ...(data.name !== undefined ? { name: data.name } : {}),
        ...(data.priceCents !== undefined ? { priceCents: data.priceCents } : {}),
        version: event.streamPosition,
      } satisfies ReplicaProduct);
    },
    // Only the id and that the user exists: name and email arrive sealed and are never kept here.
    'users.UserRegistered': async (event, { tx }) => {
      const kept = await get<ReplicaUser>(collections.users, event.data.userId, tx);
      if (kept && kept.version >= event.streamPosition) return;
      await store.documents.put(tx, collections.users, event.data.userId, {
        status: 'active',
        version: event.streamPosition,
      } satisfies ReplicaUser);
    },
    'users.UserForgotten': async (event, { tx }) => {
      await store.documents.put(tx, collections.users, event.data.userId, {
        status: 'forgotten',
        version: event.streamPosition,
      } satisfies ReplicaUser);
    },
    'inventory.Restocked': (event, { tx }) => keepStock(event, tx),
    'inventory.Reserved': (event, { tx }) => keepStock(event, tx),
    'inventory.Released': (event, { tx }) => keepStock(event, tx),
    'inventory.Sold': (event, { tx }) => keepStock(event, tx),
  };

  /** How far the replicas applied a user or product stream (0: not at all); null for any other stream. */
  async function appliedVersionOf(streamId: string): Promise<number | null> {
    const userPrefix = userStream('');
    const productPrefix = productStream('');
    if (streamId.startsWith(userPrefix)) {
      const user = await get<ReplicaUser>(collections.users, streamId.slice(userPrefix.length));
      return user?.version ?? 0;
    }
    if (streamId.startsWith(productPrefix)) {
      const product = await get<ReplicaProduct>(collections.products, streamId.slice(productPrefix.length));
      // An entry from before versions were kept holds at least the product's creation.
      return product ? (product.version ?? 1) : 0;
    }
    return null;
  }

  return {
    handlers,

    /**
     * Read-your-writes across services: waits until the replicas applied every user and product
     * stream the token names (POST /users and POST /products answer such tokens), for at most
     * `waits.tokenMs`, then 503 with Retry-After. Several tokens may come comma-separated (a
     * client that made a user and a product sends both). Streams the replicas do not keep are not
     * read here and are ignored.
     */
    async awaitToken(header: string | undefined): Promise<void> {
      if (!header) return;
      const marks = decodeConsistencyHeader(header);
      const deadline = Date.now() + waits.tokenMs;
      for (const mark of marks) {
        for (;;) {
          const applied = await appliedVersionOf(mark.streamId);
          if (applied === null || applied >= mark.version) break;
          if (Date.now() > deadline)
            throw new UnavailableError(
              `The orders service has not yet received ${mark.streamId} at version ${mark.version} from its owner; retry shortly`,
              1,
            );
          await pause(20);
        }
      }
    },

    /**
     * The user and the products an order names, from the replicas. An id they do not know may be
     * one created a moment ago whose event is on its way: it is waited for, for at most
     * `waits.unknownIdMs`, then 404. A forgotten user is a 404 at once.
     */
    async partsOf(userId: string, productIds: readonly string[]): Promise<ReplicaProduct[]> {
      const deadline = Date.now() + waits.unknownIdMs;
      for (;;) {
        const [user, products] = await Promise.all([
          get<ReplicaUser>(collections.users, userId),
          Promise.all(productIds.map((id) => get<ReplicaProduct>(collections.products, id))),
        ]);
        if (user?.status === 'forgotten') throw new NotFoundError('User', userId);
        const missingProduct = productIds.find((_, index) => !products[index]);
        if (user && missingProduct === undefined) return products as ReplicaProduct[];
        if (Date.now() > deadline) {
          throw user ? new NotFoundError('Product', missingProduct!) : new NotFoundError('User', userId);
        }
        await pause(50);
      }
    },

    /**
     * A product's available stock as inventory's events last said, and when they said it: 0 and
     * null when inventory never published a level for it (never stocked).
     */
    async stockOf(productId: string) {
      const kept = await get<ReplicaStock>(collections.stock, productId);
      return { productId, available: kept?.available ?? 0, availableAsOf: kept?.asOf ?? null };
    },
  };
}
