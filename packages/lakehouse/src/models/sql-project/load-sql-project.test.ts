import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '@causeway/core';
import { afterEach, describe, expect, it } from 'vitest';
import { execute, useTestLakehouse } from '../../test-support/open-test-lakehouse.ts';
import { defineModel } from '../model-definition.ts';
import { createModelRunner } from '../model-runner.ts';
import { createProject, type Project } from '../project.ts';
import { loadSqlProject } from './load-sql-project.ts';

const open = useTestLakehouse();
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function projectFolder(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'sql-project-'));
  directories.push(directory);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), text);
  }
  return directory;
}

const shopFiles = {
  'models/silver/orders.sql': `{{ config(materialized='incremental', unique_key='order_id') }}
-- One row per order.
SELECT id AS order_id, customer_id, status, version
FROM {{ source('bronze', 'orders') }}
{% if is_incremental() %}
WHERE version > (SELECT max(version) FROM {{ this }})
{% endif %}
`,
  'models/silver/customers.sql': `{{ config(materialized="table", tags=["crm", 'users']) }}
SELECT id AS customer_id, name FROM {{ source("bronze", "customers") }}`,
  'models/marts/customer_orders.sql': `{{ config(materialized='table', layer='gold') }}
SELECT c.name, count(*) AS orders
FROM {{ ref('orders') }} o JOIN {{ ref('customers') }} c USING (customer_id)
GROUP BY c.name`,
  'models/schema.yml': `version: 2
models:
  - name: orders
    description: One row per order.
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              values: [placed, paid]
              config: { severity: warn }
      - name: customer_id
        data_tests:
          - relationships:
              to: ref('customers')
              field: customer_id
`,
  'tests/every_customer_has_a_name.sql': `-- A customer without a name is a bug upstream.
SELECT * FROM {{ ref('customers') }} WHERE name IS NULL
`,
};

/** The same project written in TypeScript. */
function typescriptShop(): Project {
  return createProject(
    [
      defineModel({
        name: 'orders',
        layer: 'silver',
        materialized: 'incremental',
        uniqueKey: 'order_id',
        description: 'One row per order.',
        tests: [
          { type: 'unique', column: 'order_id' },
          { type: 'not_null', column: 'order_id' },
          { type: 'accepted_values', column: 'status', values: ['placed', 'paid'], severity: 'warn' },
          { type: 'relationships', column: 'customer_id', to: 'customers', field: 'customer_id' },
        ],
        sql: (ctx) =>
          `SELECT id AS order_id, customer_id, status, version FROM ${ctx.source('bronze', 'orders')}`,
      }),
      defineModel({
        name: 'customers',
        layer: 'silver',
        materialized: 'table',
        tags: ['crm', 'users'],
        sql: (ctx) => `SELECT id AS customer_id, name FROM ${ctx.source('bronze', 'customers')}`,
      }),
      defineModel({
        name: 'customer_orders',
        layer: 'gold',
        materialized: 'table',
        sql: (ctx) => `SELECT * FROM ${ctx.ref('orders')} JOIN ${ctx.ref('customers')} USING (customer_id)`,
      }),
    ],
    {
      singularTests: [
        { name: 'every_customer_has_a_name', sql: (ctx) => `SELECT * FROM ${ctx.ref('customers')}` },
      ],
    },
  );
}

function shape(project: Project) {
  return {
    order: project.order,
    models: [...project.models.values()]
      .map((m) => ({ ...m, sql: undefined, tests: undefined }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    tests: project.tests.map((t) => [t.name, t.model, t.severity, t.dependsOn]).sort(),
  };
}

describe('loadSqlProject', () => {
  it('gives the same project as the TypeScript definitions', async () => {
    const loaded = await loadSqlProject(projectFolder(shopFiles));
    expect(loaded.order).toEqual(['customers', 'orders', 'customer_orders']);
    expect(shape(loaded)).toEqual(shape(typescriptShop()));
  });

  it('renders is_incremental(), runs the yml tests and the singular test', async () => {
    const lakehouse = await open();
    await execute(
      lakehouse,
      'CREATE SCHEMA bronze',
      `CREATE TABLE bronze.customers AS SELECT * FROM (VALUES (1, 'Ada'), (2, NULL)) AS c(id, name)`,
      `CREATE TABLE bronze.orders AS SELECT * FROM (VALUES (10, 1, 'placed', 1), (11, 3, 'gone', 1)) AS o(id, customer_id, status, version)`,
    );
    const runner = createModelRunner({ lakehouse, project: await loadSqlProject(projectFolder(shopFiles)) });
    const first = await runner.run();
    const statuses = Object.fromEntries(first.tests.map((t) => [t.test, t.status]));
    expect(statuses).toEqual({
      unique_orders_order_id: 'pass',
      not_null_orders_order_id: 'pass',
      accepted_values_orders_status__placed__paid: 'warn',
      relationships_orders_customer_id__customer_id__ref_customers_: 'fail',
      every_customer_has_a_name: 'fail',
    });
    expect(first.tests.find((t) => t.test.startsWith('relationships'))?.sample).toEqual([{ from_field: 3 }]);
    // The failed error-severity tests read customers and orders: their descendant is skipped.
    expect(first.models.find((m) => m.model === 'customer_orders')?.status).toBe('skipped');
    await execute(
      lakehouse,
      `UPDATE bronze.orders SET status = 'paid', version = 2 WHERE id = 10`,
      `UPDATE silver.orders SET status = 'kept' WHERE order_id = 11`,
    );
    await runner.run({ select: ['orders'] });
    // Incremental: only the newer version was merged; the hand edit on the older row survives.
    expect(await lakehouse.all('SELECT order_id, status FROM silver.orders ORDER BY order_id')).toEqual([
      { order_id: 10, status: 'paid' },
      { order_id: 11, status: 'kept' },
    ]);
  });

  it('refuses unsupported Jinja, naming the file and the line', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { 'models/silver/a.sql': 'SELECT 1 AS id\nFROM x\nWHERE d > \'{{ var("since") }}\'' },
        /models\/silver\/a\.sql:3: unsupported Jinja "\{\{ var\("since"\) \}\}"/,
      ],
      [
        { 'models/silver/a.sql': 'SELECT 1\n{% for x in y %}\n{% endfor %}' },
        /models\/silver\/a\.sql:2: unsupported Jinja "\{% for x in y %\}"/,
      ],
      [
        { 'models/silver/a.sql': 'SELECT 1\n\n{% if is_incremental() %}\nWHERE true' },
        /models\/silver\/a\.sql:3: \{% if %\} has no \{% endif %\}/,
      ],
      [
        { 'models/silver/a.sql': 'SELECT 1 FROM {{ ref("b") ' },
        /models\/silver\/a\.sql:1: \{\{ is never closed/,
      ],
      [
        { 'models/silver/a.sql': "{{ config(materialised='table') }}\nSELECT 1" },
        /models\/silver\/a\.sql: unsupported config key "materialised"/,
      ],
      [{ 'models/a.sql': 'SELECT 1' }, /models\/a\.sql: no layer/],
      [
        { 'models/silver/a.sql': 'SELECT 1 AS id', 'tests/t.sql': 'SELECT 1\nFROM {{ this }}' },
        /tests\/t\.sql:2: a test has no \{\{ this \}\}/,
      ],
      [
        {
          'models/silver/a.sql': 'SELECT 1 AS id',
          'models/schema.yml':
            'models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [positive]',
        },
        /models\/schema\.yml: model a, column id: unsupported data test "positive"/,
      ],
      [
        { 'models/silver/a.sql': 'SELECT 1 AS id', 'models/schema.yml': 'models:\n  - name: b' },
        /describes the model "b", but no models/,
      ],
    ];
    for (const [files, message] of cases) {
      const loading = loadSqlProject(projectFolder(files));
      await expect(loading).rejects.toThrow(ConfigurationError);
      await expect(loading).rejects.toThrow(message);
    }
  });

  it('refuses a ref to a model no file defines', async () => {
    const folder = projectFolder({ 'models/gold/a.sql': "SELECT * FROM {{ ref('missing') }}" });
    await expect(loadSqlProject(folder)).rejects.toThrow(/Model "a" refs "missing"/);
  });
});
