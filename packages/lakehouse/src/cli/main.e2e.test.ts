/**
 * `causeway-lakehouse` as a user runs it: the built `dist/cli/main.js` (vitest's global setup runs
 * `npm run build`) in a child process, against a DuckDB file and a SQL project in a temp folder.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLakehouse } from '../lakehouse.ts';
import { execute } from '../test-support/open-test-lakehouse.ts';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const cliScript = join(packageRoot, 'dist', 'cli', 'main.js');

interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with stdout and stderr piped (so not a TTY: plain progress lines). */
function runCli(...args: string[]): Promise<CliOutcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliScript, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

beforeAll(() => {
  if (!existsSync(cliScript)) {
    throw new Error(
      `${cliScript} is missing: run the tests through vitest (it builds first) or npm run build`,
    );
  }
});

/** Two models on a `bronze.orders` source, and a not_null test on `orders.customer_id`. */
const projectFiles = {
  'models/silver/orders.sql': `{{ config(materialized='table') }}
SELECT id AS order_id, customer_id, amount_cents FROM {{ source('bronze', 'orders') }}`,
  'models/gold/revenue_by_customer.sql': `{{ config(materialized='table') }}
SELECT customer_id, sum(amount_cents) AS revenue_cents FROM {{ ref('orders') }} GROUP BY customer_id`,
  'models/schema.yml': `version: 2
models:
  - name: orders
    columns:
      - name: customer_id
        data_tests: [not_null]
`,
};

/** A temp folder with the project and a DuckDB file whose source holds `orders` (id, customer, cents). */
async function setUp(
  orders: readonly (readonly [number, string | null, number])[],
  sourceSchema = 'bronze',
): Promise<{ project: string; database: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'lakehouse-cli-'));
  folders.push(folder);
  const project = join(folder, 'project');
  for (const [path, text] of Object.entries(projectFiles)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  const database = join(folder, 'analytics.duckdb');
  const lakehouse = await openLakehouse({ path: database });
  const values = orders
    .map(([id, customer, cents]) => `(${id}, ${customer === null ? 'NULL' : `'${customer}'`}, ${cents})`)
    .join(', ');
  await execute(
    lakehouse,
    `CREATE SCHEMA ${sourceSchema}`,
    `CREATE TABLE ${sourceSchema}.orders (id INTEGER, customer_id VARCHAR, amount_cents INTEGER)`,
    `INSERT INTO ${sourceSchema}.orders VALUES ${values}`,
  );
  await lakehouse.close();
  return { project, database };
}

const goodOrders = [
  [1, 'ada', 500],
  [2, 'ada', 250],
  [3, 'grace', 900],
] as const;

describe('causeway-lakehouse run', () => {
  it('fails with exit 1, naming the failing test and showing its failing rows', async () => {
    const { project, database } = await setUp([...goodOrders, [4, null, 120], [5, null, 80]]);

    const { code, stdout, stderr } = await runCli('run', '--project', project, '--database', database);

    expect(code, stderr).toBe(1);
    expect(stderr).toContain('[1/2] orders success');
    expect(stderr).toContain('[2/2] revenue_by_customer skipped');
    expect(stdout).toMatch(/not_null_orders_customer_id\s+fail\s+2\s+error/);
    expect(stdout).toContain('failing rows:');
    expect(stdout).toMatch(/order_id\s+customer_id\s+amount_cents/);
    expect(stdout).toMatch(/\b4\s+NULL\s+120\b/);
    expect(stdout).toMatch(/\b5\s+NULL\s+80\b/);
    expect(stdout).toContain('revenue_by_customer skipped: test "not_null_orders_customer_id" failed');
    expect(stdout).toMatch(/Run [0-9a-f-]{36} failed: 1 of 2 models built/);
  });

  it('succeeds with exit 0 and lists the models in DAG order with their rows', async () => {
    const { project, database } = await setUp(goodOrders);

    const { code, stdout, stderr } = await runCli('run', '--project', project, '--database', database);

    expect(code, stderr).toBe(0);
    const models = stdout.split('\n').filter((line) => /^\s+(orders|revenue_by_customer)\s/.test(line));
    expect(models).toHaveLength(2);
    expect(models[0]).toMatch(/^\s+orders\s+success\s+3\s+\d+\.\d\d\s+"silver"\."orders"$/);
    expect(models[1]).toMatch(
      /^\s+revenue_by_customer\s+success\s+2\s+\d+\.\d\d\s+"gold"\."revenue_by_customer"$/,
    );
    expect(stdout).toMatch(/not_null_orders_customer_id\s+pass\s+0/);
    expect(stdout).toMatch(/Run [0-9a-f-]{36} succeeded: 2 of 2 models built; tests: 1 passed/);
  });

  it('builds only the selected models', async () => {
    const { project, database } = await setUp(goodOrders);

    const { code, stdout, stderr } = await runCli(
      'run',
      '--project',
      project,
      '--database',
      database,
      '--select',
      'orders',
    );

    expect(code, stderr).toBe(0);
    expect(stderr).toContain('Building 1 of 2 models');
    expect(stdout).toMatch(/^\s+orders\s+success\s+3\s/m);
    expect(stdout).not.toContain('revenue_by_customer');
    const lakehouse = await openLakehouse({ path: database });
    try {
      const tables = await lakehouse.all(
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_schema IN ('silver', 'gold')",
      );
      expect(tables.map((table) => table.name)).toEqual(['silver.orders']);
    } finally {
      await lakehouse.close();
    }
  });

  it('builds into the schemas of a --schemas template, sources included', async () => {
    const { project, database } = await setUp(goodOrders, 'g1_bronze');

    const { code, stdout, stderr } = await runCli(
      'run',
      '--project',
      project,
      '--database',
      database,
      '--schemas',
      'g1_{layer}',
    );

    expect(code, stderr).toBe(0);
    expect(stdout).toContain('"g1_silver"."orders"');
    expect(stdout).toContain('"g1_gold"."revenue_by_customer"');
  });

  it('exits 2 with what to do for a bad flag, a missing flag, a wrong selector', async () => {
    const { project, database } = await setUp(goodOrders);

    const badFlag = await runCli('run', '--project', project, '--database', database, '--selct', 'orders');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('Unknown flag --selct');
    expect(badFlag.stderr).toContain('--select SELECTOR');

    const missing = await runCli('run', '--project', project);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Missing --database');

    const noFile = await runCli('run', '--project', project, '--database', join(project, 'typo.duckdb'));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('No DuckDB file at');

    const selector = await runCli('run', '--project', project, '--database', database, '--select', 'order');
    expect(selector.code).toBe(2);
    expect(selector.stderr).toContain('names the model "order", which is not in the project');
    expect(stdoutOf(badFlag, missing, noFile, selector)).toBe('');
  });

  it('tells to stop the other process or use a copy when the file is held', async () => {
    const { project, database } = await setUp(goodOrders);
    const holder = await openLakehouse({ path: database });
    try {
      const { code, stderr } = await runCli('run', '--project', project, '--database', database);

      expect(code).toBe(2);
      expect(stderr).toContain(`${database} is held by another process`);
      expect(stderr).toContain('stop that process, or run against a copy');
    } finally {
      await holder.close();
    }
  });
});

describe('causeway-lakehouse models', () => {
  it('lists the DAG with each model’s last run', async () => {
    const { project, database } = await setUp(goodOrders);
    expect(
      (await runCli('run', '--project', project, '--database', database, '--select', 'orders')).code,
    ).toBe(0);

    const { code, stdout, stderr } = await runCli('models', '--project', project, '--database', database);

    expect(code, stderr).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+model\s+layer\s+materialized\s+depends on\s+last run\s+rows\s+tests$/);
    expect(lines[1]).toMatch(/^\s+orders\s+silver\s+table\s+-\s+success\s+3\s+1 pass$/);
    expect(lines[2]).toMatch(/^\s+revenue_by_customer\s+gold\s+table\s+orders\s+never\s+-\s+-$/);
  });

  it('prints its help and exits 0', async () => {
    const { code, stdout } = await runCli('models', '--help');

    expect(code).toBe(0);
    expect(stdout).toContain('Usage: causeway-lakehouse models --project <dir> --database <file.duckdb>');
  });
});

describe('the bin', () => {
  it('is a node script that runs the built main.js (linked at install, before any build)', async () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const bin = join(packageRoot, manifest.bin['causeway-lakehouse']!);
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(readFileSync(cliScript, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const help = await promisify(execFile)(process.execPath, [bin, '--help']);
    expect(help.stdout).toContain('causeway-lakehouse');
  });
});

function stdoutOf(...outcomes: CliOutcome[]): string {
  return outcomes.map((outcome) => outcome.stdout).join('');
}
