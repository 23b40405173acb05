/**
 * Reverse ETL of the shop: gold's ranking of products by units sold over the last 7 days goes
 * back to the catalog as its own command, `catalog.SetSalesRank`, after model runs (at most every
 * `minIntervalMs`). A product that dropped out of the ranking gets a null rank.
 */
import { defineReverseSync } from '@causeway/lakehouse';
import { type SetSalesRank, setSalesRank } from '../catalog/catalog-domain.ts';

interface RankRow {
  product_id: string;
  sales_rank: number;
  [column: string]: unknown;
}

export function salesRankSync(options: { minIntervalMs: number }) {
  return defineReverseSync<RankRow>({
    name: 'catalog-sales-rank',
    // Only the rank: a sale that moves no product's rank sends nothing.
    query: (relation) => `SELECT product_id, sales_rank FROM ${relation('product_sales_rank')}`,
    key: 'product_id',
    schedule: { afterModelRun: true, minIntervalMs: options.minIntervalMs },
    command: ({ key, row, run }) => ({
      destination: 'catalog.commands',
      type: setSalesRank.type,
      data: { productId: key, salesRank: row?.sales_rank ?? null, asOf: run.asOf } satisfies SetSalesRank,
    }),
  });
}
