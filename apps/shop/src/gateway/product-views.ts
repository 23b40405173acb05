/**
 * How often each product was viewed (GET /products/:id answered), counted by write-back: a view is
 * acknowledged once the gateway's journal holds it (group commit, so a burst of views costs a few
 * transactions), and the counts reach the `product_views` table in batches every second. A gateway
 * killed at any moment loses no view it answered and counts none twice; on restart it flushes what
 * its journal held. Each gateway process keeps its own journal (`owner`).
 */
import { createWriteBack, type Store } from '@causeway/core';
import { log } from '../platform/log.ts';

export interface ProductViews {
  /** Counts one view; resolves once it is durable. */
  record(productId: string): Promise<void>;
  /** The product's views: the table's count and this gateway's pending ones. */
  count(productId: string): Promise<number>;
  close(): Promise<void>;
}

export async function openProductViews(store: Store, owner: string): Promise<ProductViews> {
  await store.transaction((tx) =>
    tx.execute(
      'CREATE TABLE IF NOT EXISTS product_views (product_id TEXT PRIMARY KEY, views BIGINT NOT NULL)',
    ),
  );
  const views = createWriteBack<number>({
    store,
    name: 'product-views',
    owner,
    merge: (pending, next) => pending + next,
    async flush(tx, entries) {
      for (const { key, value } of entries) {
        await tx.execute(
          `INSERT INTO product_views (product_id, views) VALUES ($1, $2)
           ON CONFLICT (product_id) DO UPDATE SET views = product_views.views + excluded.views`,
          [key, value],
        );
      }
    },
    onFlushError: (error) =>
      log.error(`product views: a flush failed, it is tried again in a second: ${String(error)}`),
  });
  await views.start();
  return {
    record: (productId) => views.write(productId, 1),
    async count(productId) {
      const total = await views.read(productId, async () => {
        const [row] = await store.transaction((tx) =>
          tx.query<{ views: number | string }>('SELECT views FROM product_views WHERE product_id = $1', [
            productId,
          ]),
        );
        return row ? Number(row.views) : undefined;
      });
      return total ?? 0;
    },
    close: () => views.close(),
  };
}
