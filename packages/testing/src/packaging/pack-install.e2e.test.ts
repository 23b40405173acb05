/**
 * Causeway as a user gets it: every package is built and packed with npm, the tarballs are
 * installed into an empty project beside only their peer dependencies, and that project's own
 * `tsc` (a stock `tsc --init` config: strict, module nodenext) compiles the README's quick-start,
 * which plain `node` then runs: an event appended, a projection read, a saga compensated.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repository = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const workspaces = [
  'core',
  'sqlite',
  'embedded',
  'postgres',
  'postgres-cdc',
  'nats',
  'rabbitmq',
  'redis',
  'prometheus',
  'opentelemetry',
  'admin',
  'cli',
  'data-contracts',
  'lakehouse',
  'testing',
];
// The consumer project installs every package but the testing kit, which is only packed.
const installed = workspaces.filter((name) => name !== 'testing');

interface PackResult {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

/** The version installed here: hoisted to the root, or kept in the workspace that declares it. */
function versionInRepository(dependency: string): string {
  const folders = ['.', ...workspaces.map((name) => `packages/${name}`)];
  const manifest = folders
    .map((folder) => join(repository, folder, 'node_modules', dependency, 'package.json'))
    .find((path) => existsSync(path));
  if (manifest === undefined)
    throw new Error(`${dependency} is not installed in ${repository}: run npm install`);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund'], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** The project's own compiler, as its user would run it (`npx tsc`). */
async function compile(project: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', project]);
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

/** Exactly what `tsc --init` writes, but for the one line it tells a Node project to change. */
async function stockTsconfig(project: string): Promise<Record<string, unknown>> {
  await run(join(project, 'node_modules', '.bin', 'tsc'), ['--init'], { cwd: project });
  const path = join(project, 'tsconfig.json');
  const withNodeTypes = readFileSync(path, 'utf8').replace('"types": []', '"types": ["node"]');
  // skipLibCheck off, stricter than stock: our published .d.ts must compile on their own.
  writeFileSync(path, withNodeTypes.replace('"skipLibCheck": true', '"skipLibCheck": false'));
  return {
    module: /"module":\s*"nodenext"/.test(withNodeTypes),
    strict: /"strict":\s*true/.test(withNodeTypes),
  };
}

describe('the packages, packed and installed into an empty project', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'causeway-pack-'));
  const project = join(scratch, 'consumer');
  let packs: PackResult[] = [];
  let tsconfig: Record<string, unknown> = {};

  beforeAll(async () => {
    // dist/ is fresh: vitest's global setup (scripts/build-before-tests.ts) ran `npm run build`.
    const workspaceFlags = workspaces.flatMap((name) => ['--workspace', `packages/${name}`]);
    packs = JSON.parse(
      await npm(repository, 'pack', '--json', '--pack-destination', scratch, ...workspaceFlags),
    );
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const tarballs = packs
      .filter((pack) => installed.includes(pack.name.replace('@causeway/', '')))
      .map((pack) => join(scratch, pack.filename));
    // Peers pinned to the repository's versions; NATS at 3.3 because 3.4 needs Node 22.
    const peers = [
      'better-sqlite3',
      'zod',
      'pg',
      'amqplib',
      '@nats-io/transport-node',
      '@nats-io/jetstream',
      'prom-client',
    ];
    const tools = ['typescript', '@types/node'];
    const pinned = [...peers, ...tools].map((name) => `${name}@${versionInRepository(name)}`);
    // Scripts off: better-sqlite3 would compile itself from source for two minutes (no prebuilt
    // binary is reachable here); the repository's own build of that same version is copied in.
    await npm(project, 'install', '--prefer-offline', '--ignore-scripts', ...tarballs, ...pinned);
    const binary = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    mkdirSync(join(project, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
    copyFileSync(join(repository, binary), join(project, binary));
    tsconfig = await stockTsconfig(project);
  }, 600_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('packs every package with the files its exports map names, and no sources or tests', () => {
    expect(packs.map((pack) => pack.name).sort()).toEqual(
      workspaces.map((name) => `@causeway/${name}`).sort(),
    );
    for (const pack of packs) {
      const manifest = JSON.parse(
        readFileSync(
          join(repository, 'packages', pack.name.replace('@causeway/', ''), 'package.json'),
          'utf8',
        ),
      ) as { exports: Record<string, { types: string; import: string }>; license: string; private?: boolean };
      const files = new Set(pack.files.map((file) => file.path));
      expect(manifest.private, pack.name).toBeUndefined();
      expect(files.has('LICENSE'), `${pack.name} LICENSE`).toBe(true);
      for (const entry of Object.values(manifest.exports)) {
        expect(files.has(entry.types.replace('./', '')), `${pack.name} ${entry.types}`).toBe(true);
        expect(files.has(entry.import.replace('./', '')), `${pack.name} ${entry.import}`).toBe(true);
      }
      const leaked = [...files].filter((path) => path.startsWith('src/') || /\.test\.(js|d\.ts)$/.test(path));
      expect(leaked, pack.name).toEqual([]);
    }
  });

  it("serves @causeway/admin's dashboard from the installed package", async () => {
    writeFileSync(
      join(project, 'admin.mjs'),
      [
        "import { createServer } from 'node:http';",
        "import { createAdminHandler } from '@causeway/admin';",
        "import { createSqliteStore } from '@causeway/sqlite';",
        "const store = await createSqliteStore({ filename: 'admin.db' });",
        "const admin = createAdminHandler({ service: 'billing', store, access: 'open' });",
        'const server = createServer(async (request, response) => {',
        '  if (!(await admin(request, response))) response.writeHead(404).end();',
        '});',
        "await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));",
        "const base = 'http://127.0.0.1:' + server.address().port + '/causeway';",
        "const page = await fetch(base + '/');",
        "const script = await fetch(base + '/dashboard.js');",
        "const overview = await (await fetch(base + '/api/overview')).json();",
        'console.log(page.status, script.status, overview.service);',
        'server.close();',
        'await store.close();',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, [join(project, 'admin.mjs')], { cwd: project });
    expect(stdout.trim()).toBe('200 200 billing');
  }, 60_000);

  it('installs the causeway command, which answers --help and says what it needs', async () => {
    const causeway = join(project, 'node_modules', '.bin', 'causeway');
    const help = await run(causeway, ['--help'], { cwd: project });
    expect(help.stdout).toContain('Usage: causeway');
    expect(help.stdout).toMatch(/streams[\s\S]*outbox[\s\S]*dlq[\s\S]*sagas[\s\S]*doctor/);
    await expect(
      run(causeway, ['outbox', 'status', '--db', join(project, 'no.db')], { cwd: project }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('No SQLite database at'),
    });
  });

  it("typechecks the README's quick-start with the project's own tsc and runs it with plain node", async () => {
    expect(tsconfig).toEqual({ module: true, strict: true });
    copyFileSync(join(repository, 'docs', 'examples', 'quick-start.ts'), join(project, 'quick-start.ts'));
    writeFileSync(
      join(project, 'backends.ts'),
      [
        "import { createPostgresStore } from '@causeway/postgres';",
        "import { createNatsTransport } from '@causeway/nats';",
        "import { createRabbitMqTransport } from '@causeway/rabbitmq';",
        "import { createPostgresChangeSource } from '@causeway/postgres-cdc';",
        "import { registerCausewayMetrics, timeDeliveries } from '@causeway/prometheus';",
        "import { startTracing } from '@causeway/opentelemetry';",
        "import { createAdminHandler } from '@causeway/admin';",
        'export const backends = [createPostgresStore, createNatsTransport, createRabbitMqTransport, createPostgresChangeSource];',
        'export const metrics = [registerCausewayMetrics, timeDeliveries, startTracing, createAdminHandler];',
      ].join('\n'),
    );
    const compiled = await compile(project);
    expect(compiled.output).toBe('');
    expect(compiled.ok).toBe(true);

    const { stdout } = await run(process.execPath, [join(project, 'quick-start.js')], { cwd: project });
    expect(stdout.trim()).toBe('{ totalCents: 42 } compensated');
  }, 120_000);

  it('validates a data contract with the ODCS schema the package ships, and names what a next version breaks', async () => {
    const contract = (version: string, columns: string[]) =>
      JSON.stringify(
        `apiVersion: v3.1.0\nkind: DataContract\nid: orders\nversion: ${version}\nstatus: active\nschema:\n  - name: orders.OrderPlaced\n    properties:\n${columns.map((name) => `      - { name: ${name}, logicalType: string }`).join('\n')}\n`,
      );
    writeFileSync(
      join(project, 'contracts.ts'),
      [
        "import { breakingChanges, parseContract } from '@causeway/data-contracts';",
        `const before = parseContract(${contract('1.0.0', ['orderId', 'note'])}, 'before');`,
        `const after = parseContract(${contract('1.1.0', ['orderId'])}, 'after');`,
        'console.log(breakingChanges(before, after).map((change) => change.message).join());',
        "try { parseContract('kind: DataContract', 'bad'); } catch (error) { console.log((error as Error).name); }",
      ].join('\n'),
    );
    const compiled = await compile(project);
    expect(compiled.output).toBe('');
    const { stdout } = await run(process.execPath, [join(project, 'contracts.js')], { cwd: project });
    expect(stdout.trim().split('\n')).toEqual([
      'port orders.OrderPlaced, column note: column removed',
      'ValidationError',
    ]);
  }, 120_000);

  it("runs the lakehouse from its tarball: DuckDB's native binding, bronze to gold, and the CLI's help", async () => {
    writeFileSync(
      join(project, 'lakehouse.ts'),
      [
        "import { createBronze, createModelRunner, createProject, defineModel, openLakehouse } from '@causeway/lakehouse';",
        "const lakehouse = await openLakehouse({ path: ':memory:' });",
        'const bronze = createBronze({ lakehouse });',
        'await bronze.ensure();',
        "const change = { id: 'o-1', source: 'orders', table: 'orders', op: 'c' as const, key: { id: 1 }, before: null,",
        "  after: { id: 1, total: 42 }, committedAt: '2026-12-01T10:00:00Z', position: 1n };",
        "await bronze.ingest({ source: 'orders', position: 1n, changes: [change] });",
        'const totals = defineModel({',
        "  name: 'totals', layer: 'gold', materialized: 'table',",
        "  sql: ({ source }) => \"SELECT sum(CAST(after->>'total' AS INTEGER)) AS total FROM \" + source('bronze', 'changes'),",
        '});',
        'const run = await createModelRunner({ lakehouse, project: createProject([totals]) }).run();',
        "console.log(run.status, JSON.stringify(await lakehouse.all('SELECT total FROM gold.totals')));",
        'await lakehouse.close();',
      ].join('\n'),
    );
    const compiled = await compile(project);
    expect(compiled.output).toBe('');
    const { stdout } = await run(process.execPath, [join(project, 'lakehouse.js')], { cwd: project });
    expect(stdout.trim()).toBe('success [{"total":42}]');
    const help = await run(join(project, 'node_modules', '.bin', 'causeway-lakehouse'), ['--help'], {
      cwd: project,
    });
    expect(help.stdout).toContain('causeway-lakehouse');
  }, 120_000);

  it('carries the data types into the project: data of the wrong shape does not compile', async () => {
    writeFileSync(
      join(project, 'wrong-shape.ts'),
      [
        "import { createEventRegistry, createEventStore, defineEvent } from '@causeway/core';",
        "import { createSqliteStore } from '@causeway/sqlite';",
        "import { z } from 'zod';",
        "const placed = defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ totalCents: z.int() }) });",
        "const store = await createSqliteStore({ filename: ':memory:' });",
        'const events = createEventStore({ store, registry: createEventRegistry([placed]) });',
        "await events.appendToStream('o-1', [{ type: 'orders.OrderPlaced', data: { totalCents: 'many' } }]);",
      ].join('\n'),
    );
    const compiled = await compile(project);
    rmSync(join(project, 'wrong-shape.ts'));
    expect(compiled.ok).toBe(false);
    expect(compiled.output).toMatch(/wrong-shape\.ts\(7,\d+\): error TS2322/);
  }, 120_000);
});
