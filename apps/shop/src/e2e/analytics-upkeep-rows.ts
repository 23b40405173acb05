/**
 * The analytics service's Lambda check and Parquet exports through the gateway (part of
 * shop-rows.ts, so they run on both backends, after the orders of the rows before them).
 */
import { openLakehouse } from '@causeway/lakehouse';
import { expect, it } from 'vitest';
import { until } from './running-shop.ts';
import type { Answer } from './shop-api.ts';

type Api = (method: string, path: string, body?: unknown) => Promise<Answer>;

interface TableExport {
  table: string;
  file: string;
  rows: number;
}

export function analyticsUpkeepRows(api: Api): void {
  it('POST /analytics/lambda recomputes gold in full and finds no drift from the incremental gold', async () => {
    const check = await api('POST', '/analytics/lambda');
    expect(check.status).toBe(200);
    // On drift, name the tables that differ, and by how much.
    const drifting = (check.body.tables ?? []).filter(
      (table: { missing: number; extra: number }) => table.missing + table.extra > 0,
    );
    expect(check.body, `drift in ${JSON.stringify(drifting)}`).toMatchObject({
      status: 'agrees',
      driftRows: 0,
      error: null,
    });
    const fact = check.body.tables.find((table: { table: string }) => table.table === 'fct_order_line');
    expect(fact.rows).toBeGreaterThan(0);
    expect(fact.recomputedRows).toBe(fact.rows);
    const checks = await api('GET', '/analytics/lambda');
    expect(checks.body.checks[0]).toMatchObject({ checkId: check.body.checkId, status: 'agrees' });
  });

  it('POST /analytics/exports writes gold as Parquet that another engine reads back equal to the answers', async () => {
    // A DuckDB of this test's own, as Spark or Trino would read the files: nothing shared with the service.
    const reader = await openLakehouse({ path: ':memory:' });
    try {
      // An order of an earlier row may still be ending: export again until nothing moved in between.
      const { exported, fromParquet, answer } = await until(
        async () => {
          const exported = await api('POST', '/analytics/exports');
          const salesByDay = (exported.body.gold as TableExport[]).find((t) => t.table === 'sales_by_day');
          const rows = await reader.all<{
            key: string;
            orders: number;
            units: number;
            revenue_cents: number;
          }>(
            `SELECT key, orders, units, revenue_cents FROM read_parquet('${salesByDay!.file}') ORDER BY key`,
          );
          const fromParquet = rows.map((row) => ({
            key: row.key,
            orders: row.orders,
            units: row.units,
            revenueCents: row.revenue_cents,
          }));
          return { exported, fromParquet, answer: await api('GET', '/analytics/sales?groupBy=day') };
        },
        (both) => JSON.stringify(both.fromParquet) === JSON.stringify(both.answer.body.rows),
        { timeoutMs: 20_000 },
      );
      expect(exported.status).toBe(200);
      expect(fromParquet).toEqual(answer.body.rows);
      expect(fromParquet.length).toBeGreaterThan(0);
      const salesByDay = (exported.body.gold as TableExport[]).find((t) => t.table === 'sales_by_day');
      expect(salesByDay).toMatchObject({
        file: expect.stringMatching(/analytics-exports\/gold\/sales_by_day\.parquet$/),
      });
      expect(salesByDay!.rows).toBe(fromParquet.length);
      expect(exported.body.gold.map((t: TableExport) => t.table)).toEqual(
        expect.arrayContaining(['fct_order_line', 'fct_payment', 'dim_product', 'dim_customer', 'dim_date']),
      );
      expect(exported.body.bronze.rows).toBeGreaterThan(0);
      expect((await api('GET', '/analytics/exports')).body).toEqual(exported.body);
    } finally {
      await reader.close();
    }
  });

  it('GET /analytics/rejected lists changes held out of silver; a bad limit is a 400 problem', async () => {
    const rejected = await api('GET', '/analytics/rejected');
    expect(rejected.status).toBe(200);
    expect(rejected.body).toEqual({ total: expect.any(Number), rows: expect.any(Array) });
    const bad = await api('GET', '/analytics/rejected?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });
}
