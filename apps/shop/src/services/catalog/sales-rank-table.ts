/**
 * The sales rank analytics computes for each product, as the catalog keeps it: derived data, so a
 * plain table beside the product streams (a rank changing every few seconds would otherwise grow
 * each stream without bound). A rank applies only if newer than the kept one: a replayed or late
 * command of an older ranking changes nothing.
 */
import type { Store, Transaction } from '@causeway/core';
import type { SetSalesRank } from './catalog-domain.ts';

export async function createSalesRankTable(store: Store): Promise<void> {
  await store.transaction((tx) =>
    tx.execute(`CREATE TABLE IF NOT EXISTS product_sales_ranks (
      product_id TEXT PRIMARY KEY,
      sales_rank INTEGER,
      as_of TEXT NOT NULL
    )`),
  );
}

export interface KeptSalesRank {
  salesRank: number | null;
  salesRankAsOf: string | null;
}

export async function salesRankOf(tx: Transaction, productId: string): Promise<KeptSalesRank> {
  const [row] = await tx.query<{ sales_rank: number | null; as_of: string }>(
    'SELECT sales_rank, as_of FROM product_sales_ranks WHERE product_id = $1',
    [productId],
  );
  return { salesRank: row?.sales_rank ?? null, salesRankAsOf: row?.as_of ?? null };
}

/**
 * Keeps the command's rank if it is newer than the kept one; answers whether the rank the catalog
 * shows changed. ISO timestamps of one format compare as text.
 */
export async function applySalesRank(tx: Transaction, command: SetSalesRank): Promise<boolean> {
  const before = await salesRankOf(tx, command.productId);
  if (before.salesRankAsOf !== null && before.salesRankAsOf >= command.asOf) return false;
  await tx.execute(
    `INSERT INTO product_sales_ranks (product_id, sales_rank, as_of) VALUES ($1, $2, $3)
     ON CONFLICT (product_id) DO UPDATE SET sales_rank = excluded.sales_rank, as_of = excluded.as_of`,
    [command.productId, command.salesRank, command.asOf],
  );
  return before.salesRank !== command.salesRank;
}
