import {
  createEventRegistry,
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
  defineEvent,
  defineProjection,
} from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

const registry = createEventRegistry([
  defineEvent({
    type: 'cart.ItemAdded',
    schema: z.object({ sku: z.string(), quantity: z.number().int().positive() }),
  }),
]);
const store = await createSqliteStore({ filename: ':memory:' }); // or createPostgresStore({ connectionString })
const eventStore = createEventStore({ store, registry });

const cartItems = defineProjection({
  name: 'cart_items',
  collections: ['carts'],
  handlers: {
    'cart.ItemAdded': async (event, { documents }) => {
      const cart = (await documents.get<{ items: number }>('carts', event.streamId)) ?? { items: 0 };
      await documents.put('carts', event.streamId, {
        items: cart.items + (event.data as { quantity: number }).quantity,
      });
    },
  },
});
const runner = createProjectionRunner({ eventStore, projections: [cartItems] });
await runner.start();

const { consistencyToken } = await eventStore.appendToStream(
  'cart-1',
  [{ type: 'cart.ItemAdded', data: { sku: 'tea', quantity: 2 } }],
  {
    expectedVersion: 'noStream',
  },
);
await runner.waitFor('cart_items', consistencyToken); // read-your-writes
console.log(await createReadModelReader(store, cartItems).get('carts', 'cart-1')); // { items: 2 }
await runner.stop();
await store.close();
