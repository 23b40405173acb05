import { createReverseEtl, defineReverseSync, openLakehouse, outboxDelivery } from '@causeway/lakehouse';
import { createSqliteStore } from '@causeway/sqlite';

const lakehouse = await openLakehouse({ path: ':memory:' });
await lakehouse.exclusive(async (session) => {
  await session.run('CREATE SCHEMA gold');
  await session.run(
    `CREATE TABLE gold.product_sales_rank AS SELECT * FROM (VALUES ('mug', 1), ('tea', 2)) AS t(product_id, sales_rank)`,
  );
});
// The service's own store: its outbox relay publishes what the sync enqueues.
const store = await createSqliteStore({ filename: ':memory:' });

// #region reverse-etl
// Gold's ranking goes back to the catalog as the catalog's own command, never into its tables:
// one command per product whose rank changed, through the outbox (retried and dead-lettered like
// any message), with an id per (sync, key, run) and the run's asOf for the receiver to keep.
const salesRank = defineReverseSync<{ product_id: string; sales_rank: number }>({
  name: 'catalog-sales-rank',
  query: (relation) => `SELECT product_id, sales_rank FROM ${relation('product_sales_rank')}`,
  key: 'product_id',
  schedule: { afterModelRun: true, minIntervalMs: 5_000 }, // or { everyMs: 60_000 }
  command: ({ key, row, run }) => ({
    destination: 'catalog.commands',
    type: 'catalog.SetSalesRank',
    data: { productId: key, salesRank: row?.sales_rank ?? null, asOf: run.asOf },
  }),
});
const reverseEtl = createReverseEtl({
  lakehouse,
  syncs: [salesRank],
  relation: (model) => `gold.${model}`,
  deliver: outboxDelivery(store),
});
const first = await reverseEtl.run('catalog-sales-rank');
const again = await reverseEtl.run('catalog-sales-rank'); // nothing changed: nothing pushed
console.log(first.pushed, again.pushed, (await store.outbox.backlog()).count); // 2 0 2
// #endregion

await reverseEtl.stop();
await store.close();
await lakehouse.close();
