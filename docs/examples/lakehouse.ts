import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createBronze,
  createModelRunner,
  createProject,
  defineModel,
  exportTable,
  openLakehouse,
} from '@causeway/lakehouse';

const lakehouse = await openLakehouse({ path: ':memory:' }); // a file path in production
const bronze = createBronze({ lakehouse });

// #region lakehouse
// Bronze: changes as they came, with the source's position in the same DuckDB transaction. A
// source that resumes from `offsetOf('orders')` after a crash loses nothing and doubles nothing.
await bronze.ingest({
  source: 'orders',
  position: 2n,
  changes: [1, 2].map((n) => ({
    id: `order-${n}`,
    source: 'orders',
    table: 'orders',
    op: 'c' as const,
    key: { id: n },
    before: null,
    after: { id: n, country: n === 1 ? 'DE' : 'FR', total_cents: 1000 * n },
    committedAt: '2026-12-01T10:00:00Z',
    position: BigInt(n),
  })),
});

// Silver and gold: dbt-style models that ref() each other; the runner builds the DAG in order.
const orders = defineModel({
  name: 'orders',
  layer: 'silver',
  materialized: 'incremental',
  uniqueKey: 'order_id',
  tests: [{ type: 'unique', column: 'order_id' }],
  sql: ({ source, isIncremental, this: self }) => `
    SELECT CAST(after->>'id' AS INTEGER) AS order_id, after->>'country' AS country,
           CAST(after->>'total_cents' AS BIGINT) AS total_cents, ingest_seq
      FROM ${source('bronze', 'changes')} WHERE table_name = 'orders'
      ${isIncremental ? `AND ingest_seq > (SELECT max(ingest_seq) FROM ${self})` : ''}`,
});
const salesByCountry = defineModel({
  name: 'sales_by_country',
  layer: 'gold',
  materialized: 'table',
  tests: [{ type: 'not_null', column: 'country' }],
  sql: ({ ref }) => `SELECT country, sum(total_cents) AS revenue_cents FROM ${ref('orders')} GROUP BY ALL`,
});
const runner = createModelRunner({ lakehouse, project: createProject([orders, salesByCountry]) });
const run = await runner.run(); // also { select: ['+sales_by_country'] }, { fullRefresh: true }
console.log(run.status, await lakehouse.all('SELECT * FROM gold.sales_by_country ORDER BY country'));
// #endregion

const exports = await mkdtemp(join(tmpdir(), 'lakehouse-example-'));
// #region parquet
// Gold for Spark, Trino, ClickHouse or BigQuery: one zstd Parquet file per table, replaced whole.
const exported = await exportTable({
  lakehouse,
  relation: 'gold.sales_by_country',
  file: join(exports, 'gold', 'sales_by_country.parquet'),
});
console.log(exported.rows, await lakehouse.all(`SELECT * FROM read_parquet('${exported.file}') ORDER BY 1`));
// #endregion
await rm(exports, { recursive: true });
await lakehouse.close();
