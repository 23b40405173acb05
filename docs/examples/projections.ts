import * as cw from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

const itemSold = cw.defineEvent({
  type: 'shop.ItemSold',
  schema: z.object({ sku: z.string(), quantity: z.int().positive() }),
});
const store = await createSqliteStore({ filename: ':memory:' });
const registry = cw.createEventRegistry([itemSold]);
const eventStore = cw.createEventStore({ store, registry });

// #region projection
// A read model in SQL: readers query a view named `sales`; rows are buffered and written per batch.
const sales = cw.defineProjection({
  name: 'sales',
  registry, // types each handler's event
  tables: { sales: (table) => `CREATE TABLE ${table} (sku TEXT, quantity INTEGER)` },
  handlers: {
    'shop.ItemSold': (event, { insert }) => insert('sales', event.data),
  },
});
const runner = cw.createProjectionRunner({ eventStore, projections: [sales] });
await runner.start();
const sold = await eventStore.appendToStream('sku-tea', [
  { type: 'shop.ItemSold', data: { sku: 'tea', quantity: 2 } },
  { type: 'shop.ItemSold', data: { sku: 'tea', quantity: 3 } },
]);
await runner.waitFor('sales', sold.consistencyToken, { timeoutMs: 5_000 }); // else a WaitTimeoutError
const { positionsBehind } = await runner.status('sales'); // also secondsBehind, heldBackMs, lastError
await runner.rebuild('sales'); // replays the log into a fresh generation, then swaps it in atomically
const rows = await store.transaction((tx) =>
  tx.query('SELECT sku, SUM(quantity) AS sold FROM sales GROUP BY sku'),
);
console.log(positionsBehind, rows); // 0 [ { sku: 'tea', sold: 5 } ]
// #endregion
await runner.stop();
await store.close();
