/**
 * The `causeway` command as a user runs it (the built bin, in a process of its own) against a real
 * SQLite file and, when PostgreSQL runs here, a PostgreSQL schema: listings as tables and as JSON, a
 * temporal read, doctor's verdict and exit codes, and errors that say what to do. Doctor's broker
 * checks run against the real NATS and RabbitMQ, and against closed ports; `cache stats` against a
 * service of the test's own that mounts @causeway/admin over a real read-through cache.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdminHandler } from '@causeway/admin';
import {
  createEventRegistry,
  createEventStore,
  createMemoryCache,
  createReadThrough,
  defineEvent,
  newMessageId,
  type Store,
} from '@causeway/core';
import { deleteStreamsWithPrefix } from '@causeway/nats';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore, sqliteSchemaVersion } from '@causeway/sqlite';
import { createTestDatabase, describeWithService, serviceUrl, type TestDatabase } from '@causeway/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { connect as connectRabbitMq } from 'amqplib';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const noted = defineEvent({ type: 'test.Noted', schema: z.object({ n: z.number() }) });
const registry = createEventRegistry([noted]);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `causeway ...args`; resolves with its exit code and output whatever the code. */
function causeway(...args: string[]): Promise<Ran> {
  return causewayWithEnvironment({}, ...args);
}

/** Runs it with these variables set; the CAUSEWAY_* of the test's own environment are cleared. */
function causewayWithEnvironment(variables: Record<string, string>, ...args: string[]): Promise<Ran> {
  const cleared = {
    CAUSEWAY_DB: '',
    CAUSEWAY_NATS: '',
    CAUSEWAY_RABBITMQ: '',
    CAUSEWAY_URL: '',
    CAUSEWAY_TOKEN: '',
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, ...cleared, ...variables } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface CheckRow {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** Doctor's `--json` rows by check name. */
function checksOf(ran: Ran): Record<string, CheckRow> {
  return Object.fromEntries((JSON.parse(ran.stdout) as CheckRow[]).map((row) => [row.check, row]));
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Two streams (one with two events a second apart), an outbox, a dead letter and an overdue saga. */
async function fill(store: Store): Promise<{ between: string }> {
  const events = createEventStore({ store, registry });
  await events.appendToStream('account-1', [{ type: 'test.Noted', data: { n: 1 } }], {
    publishTo: 'test.noted',
  });
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const between = new Date(Date.now() - 500).toISOString();
  await events.appendToStream('account-1', [{ type: 'test.Noted', data: { n: 2 } }], {
    publishTo: 'test.noted',
  });
  await events.appendToStream('account-2', [{ type: 'test.Noted', data: { n: 3 } }]);
  await store.deadLetters.put(null, {
    consumer: 'payments',
    messageId: newMessageId(),
    orderingKey: 'order-9',
    message: { type: 'payments.Charge' },
    reason: 'card service down',
    attempts: 5,
    status: 'dead',
  });
  await store.transaction((tx) =>
    store.sagas.insert(tx, {
      sagaId: 'order-9',
      sagaName: 'PlaceOrder',
      status: 'running',
      data: {},
      stepIndex: 1,
      steps: [],
      wakeAt: new Date(Date.now() - 120_000).toISOString(),
      reason: null,
      correlationId: 'order-9',
    }),
  );
  await store.transaction((tx) => store.checkpoints.save(tx, 'orders-view', { position: 1, generation: 2 }));
  await store.transaction((tx) => store.inbox.record(tx, 'payments', newMessageId()));
  return { between };
}

interface CliBackend {
  store: Store;
  args: string[];
  /** Makes every inbox receipt this many days older, in the database itself. */
  ageReceipts(days: number): Promise<void>;
}

function describeCli(backend: string, open: () => Promise<CliBackend>) {
  describe(`causeway on ${backend}`, () => {
    let db: string[];
    let between: string;
    let ageReceipts: CliBackend['ageReceipts'];
    beforeAll(async () => {
      const { store, args, ...rest } = await open();
      ({ between } = await fill(store));
      await store.close();
      db = args;
      ageReceipts = rest.ageReceipts;
    }, 30_000);

    it('lists streams and shows one, as JSON and as a table, and reads a stream as of a past time', async () => {
      const listed = await causeway('streams', 'list', ...db, '--json');
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual([
        { stream: 'account-1', version: 2 },
        { stream: 'account-2', version: 1 },
      ]);
      const table = await causeway('streams', 'list', ...db);
      expect(table.stdout).toMatch(/stream\s+│?\s*version/);
      expect(table.stdout).toContain('2 of 2 streams, 3 events');

      const shown = JSON.parse((await causeway('streams', 'show', 'account-1', ...db, '--json')).stdout);
      expect(shown.map((event: { data: { n: number } }) => event.data.n)).toEqual([1, 2]);
      const past = JSON.parse(
        (await causeway('streams', 'show', 'account-1', ...db, '--as-of', between, '--json')).stdout,
      );
      expect(past.map((event: { data: { n: number } }) => event.data.n)).toEqual([1]);
    });

    it('reports the outbox, the dead letters and the sagas', async () => {
      expect(JSON.parse((await causeway('outbox', 'status', ...db, '--json')).stdout)).toEqual([
        { unpublished: 2, oldestAgeSeconds: expect.any(Number) },
      ]);
      expect(JSON.parse((await causeway('dlq', 'list', ...db, '--status', 'dead', '--json')).stdout)).toEqual(
        [
          expect.objectContaining({
            consumer: 'payments',
            type: 'payments.Charge',
            reason: 'card service down',
          }),
        ],
      );
      expect(
        JSON.parse((await causeway('dlq', 'list', ...db, '--status', 'parked', '--json')).stdout),
      ).toEqual([]);
      const [dead] = JSON.parse((await causeway('dlq', 'list', ...db, '--status', 'dead', '--json')).stdout);
      const shown = JSON.parse(
        (await causeway('dlq', 'show', String(dead.sequence), ...db, '--json')).stdout,
      );
      const field = (name: string) => shown.find((row: { field: string }) => row.field === name)?.value;
      expect(field('reason')).toBe('card service down');
      expect(field('message')).toEqual(expect.objectContaining({ type: 'payments.Charge' }));
      const missing = await causeway('dlq', 'show', '999', ...db);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('No dead letter 999');
      const sagas = await causeway('sagas', 'list', ...db, '--status', 'running');
      expect(sagas.stdout).toContain('order-9');
      expect(sagas.stdout).toContain('running 1');
    });

    it("shows one saga, and each projection's checkpoint with how far behind the log's head it is", async () => {
      const saga = await causeway('sagas', 'show', 'order-9', ...db, '--json');
      expect(saga.code).toBe(0);
      expect(JSON.parse(saga.stdout)).toEqual(
        expect.arrayContaining([
          { field: 'sagaName', value: 'PlaceOrder' },
          { field: 'status', value: 'running' },
        ]),
      );
      const missing = await causeway('sagas', 'show', 'order-0', ...db);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('No saga order-0 in this database');
      const projections = await causeway('projections', 'status', ...db, '--json');
      expect(projections.code).toBe(0);
      const [view] = JSON.parse(projections.stdout);
      expect(view).toMatchObject({ projection: 'orders-view', generation: 2, position: 1 });
      expect(view.behind).toBeGreaterThanOrEqual(2);
    });

    it('doctor fails on a saga past its deadline, names the fix, and exits 1; a looser check passes', async () => {
      const doctor = await causeway('doctor', ...db, '--json');
      expect(doctor.code).toBe(1);
      const checks = JSON.parse(doctor.stdout) as Array<{ check: string; status: string; fix?: string }>;
      expect(checks.find((check) => check.check === 'sagas')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('orchestrating service'),
      });
      expect(checks.find((check) => check.check === 'dead letters')).toMatchObject({ status: 'warn' });
      expect(checks.find((check) => check.check === 'outbox')).toMatchObject({ status: 'ok' });
      const strict = await causeway('doctor', ...db, '--outbox-age-limit', '1', '--json');
      expect(
        JSON.parse(strict.stdout).find((check: { check: string }) => check.check === 'outbox').status,
      ).toBe('fail');
    });

    it('doctor names the schema version, and warns when rows outlive the retention policy (no pass runs)', async () => {
      const checkOf = async (...flags: string[]) =>
        (
          JSON.parse((await causeway('doctor', ...db, ...flags, '--json')).stdout) as Array<{
            check: string;
            status: string;
            detail: string;
            fix?: string;
          }>
        ).filter((check) => check.check === 'schema' || check.check === 'retention');
      const fresh = await checkOf();
      expect(fresh).toEqual([
        expect.objectContaining({
          check: 'schema',
          status: 'ok',
          detail: expect.stringMatching(/^version \d+/),
        }),
        expect.objectContaining({ check: 'retention', status: 'ok' }),
      ]);
      await ageReceipts(9);
      const [, stale] = await checkOf();
      expect(stale).toMatchObject({
        status: 'warn',
        detail: expect.stringMatching(/^inbox receipts: the oldest is 21\d\.\d h old, kept 168\.0 h$/),
        fix: expect.stringContaining('createRetentionSchedule'),
      });
      // A service that keeps receipts 30 days: nothing is past its policy.
      const [, longer] = await checkOf('--retention-inbox-days', '30');
      expect(longer).toMatchObject({ status: 'ok' });
    });

    it('refuses bad flags with exit 2, before looking at anything', async () => {
      const zero = await causeway('streams', 'list', ...db, '--limit', '0');
      expect(zero.code).toBe(2);
      expect(zero.stderr).toContain('a whole number from 1');
      const status = await causeway('sagas', 'list', ...db, '--status', 'stuck');
      expect(status.code).toBe(2);
      expect(status.stderr).toContain('Allowed choices are running, compensating');
      const time = await causeway('streams', 'show', 'account-1', ...db, '--as-of', 'yesterday');
      expect(time.code).toBe(2);
    });
  });
}

describe('causeway without a database it can look at', () => {
  it('says which database to pass, or what is wrong with it, and exits 2', async () => {
    const none = await causeway('streams', 'list');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--db <file-or-url>, or CAUSEWAY_DB');
    const missing = await causeway('outbox', 'status', '--db', '/nowhere/orders.db');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No SQLite database at /nowhere/orders.db');
    const unknown = await causeway('stream', 'list');
    expect(unknown.code).toBe(2);
  });

  it('says which service to name for an action, or that none answers there, and exits 2', async () => {
    const none = await causeway('projections', 'pause', 'orders_view');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--url <its admin address>');
    const closed = await causeway('dlq', 'redrive', '7', '--url', 'http://127.0.0.1:59173');
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain('No service answers at http://127.0.0.1:59173 (ECONNREFUSED)');
  });

  it("refuses cdc status on SQLite: it reads PostgreSQL's WAL", async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'causeway-cli-cdc-')), 'orders.db');
    await (await createSqliteStore({ filename })).close();
    const sqlite = await causeway('cdc', 'status', '--db', filename);
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toContain('pass a postgres:// URL');
  });
});

describe("causeway cache stats, through a running service's admin API", () => {
  let url: string;
  let stop: () => Promise<void>;
  const products = createReadThrough<string>({
    cache: createMemoryCache(),
    load: async (sku) => ({ value: `product ${sku}`, version: 1 }),
    ttlMs: 60_000,
  });
  beforeAll(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'causeway-cli-caches-'));
    const store = await createSqliteStore({ filename: join(directory, 'shop.db') });
    const access = { readToken: 'look', adminToken: 'act' };
    const handlers = [
      createAdminHandler({ service: 'gateway', store, caches: { products }, access }),
      // A second mount of the same service that reports no caches.
      createAdminHandler({ service: 'orders', store, basePath: '/plain', access }),
    ];
    const server = createServer(async (request, response) => {
      for (const handle of handlers) if (await handle(request, response)) return;
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stop = async () => {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    };
    // Two misses (each loads), then three hits.
    for (const sku of ['tea', 'coffee', 'tea', 'tea', 'coffee']) await products.get(sku);
  });
  afterAll(async () => stop?.());

  it("prints each cache's counts as JSON and as a table with its hit ratio", async () => {
    const json = await causeway('cache', 'stats', '--url', url, '--token', 'look', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      {
        name: 'products',
        kind: 'read-through',
        hits: 3,
        stale: 0,
        misses: 2,
        loads: 2,
        cacheErrors: 0,
        hitRatio: 0.6,
      },
    ]);
    const table = await causeway('cache', 'stats', '--url', url, '--token', 'look');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/cache\s+│?\s*kind\s+│?\s*hits\s+│?\s*stale\s+│?\s*misses/);
    expect(table.stdout).toMatch(
      /products\s+│?\s*read-through\s+│?\s*3\s+│?\s*0\s+│?\s*2\s+│?\s*2\s+│?\s*0\s+│?\s*60\.0%/,
    );
  });

  it('says plainly when a service reports no caches, and exits 0', async () => {
    const none = await causeway('cache', 'stats', '--url', url, '--base-path', '/plain', '--token', 'look');
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(`The service at ${url} reports no caches`);
    const json = await causeway(
      'cache',
      'stats',
      '--url',
      url,
      '--base-path',
      '/plain',
      '--token',
      'look',
      '--json',
    );
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('names the token to pass when refused (exit 1), and the service to start when none answers (exit 2)', async () => {
    const anonymous = await causeway('cache', 'stats', '--url', url);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('/causeway/api/caches');
    expect(anonymous.stderr).toContain('pass --token or CAUSEWAY_TOKEN');
    const wrong = await causewayWithEnvironment({ CAUSEWAY_TOKEN: 'guess' }, 'cache', 'stats', '--url', url);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('pass --token or CAUSEWAY_TOKEN');
    const elsewhere = await causeway(
      'cache',
      'stats',
      '--url',
      url,
      '--base-path',
      '/admin',
      '--token',
      'look',
    );
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('--base-path where it mounted @causeway/admin');
    const port = await closedPort();
    const closed = await causeway('cache', 'stats', '--url', `http://127.0.0.1:${port}`);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain(`No service answers at http://127.0.0.1:${port} (ECONNREFUSED)`);
    const none = await causeway('cache', 'stats');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--url <its admin address>');
  });
});

describe('causeway across databases and over time', () => {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-cli-flow-'));
  const openService = (name: string) => createSqliteStore({ filename: join(directory, `${name}.db`) });

  it('finds a flow across two services by its correlation id, in the order the events occurred', async () => {
    const [orders, payments] = [await openService('orders'), await openService('payments')];
    try {
      // A few ms apart: across databases only the clock orders a flow.
      const append = async (store: Store, streamId: string, n: number, correlationId: string) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await createEventStore({ store, registry }).appendToStream(
          streamId,
          [{ type: 'test.Noted', data: { n } }],
          {
            correlationId,
          },
        );
      };
      await append(orders, 'order-7', 1, 'order-7');
      await append(payments, 'payment-7', 2, 'order-7');
      await append(orders, 'order-8', 3, 'order-8');
      await append(orders, 'order-7', 4, 'order-7');
    } finally {
      await orders.close();
      await payments.close();
    }
    const flow = await causeway(
      'events',
      'find',
      '--correlation',
      'order-7',
      '--db',
      join(directory, 'orders.db'),
      '--db',
      join(directory, 'payments.db'),
      '--json',
    );
    expect(flow.code).toBe(0);
    expect(
      JSON.parse(flow.stdout).map((row: { database: string; stream: string; position: number }) => [
        row.database,
        row.stream,
        row.position,
      ]),
    ).toEqual([
      ['orders', 'order-7', 1],
      ['payments', 'payment-7', 1],
      ['orders', 'order-7', 2],
    ]);
    const none = await causeway('events', 'find', '--correlation', 'order-7');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('once per service');
  });

  it('tails the log: prints each event appended after it started, of one stream when asked, and stops on Ctrl-C', async () => {
    const filename = join(directory, 'tailed.db');
    const store = await openService('tailed');
    const events = createEventStore({ store, registry });
    await events.appendToStream('before', [{ type: 'test.Noted', data: { n: 0 } }]);
    const child = spawn(process.execPath, [
      bin,
      'streams',
      'tail',
      '--db',
      filename,
      '--stream',
      'watched',
      '--json',
      '--every',
      '50',
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await expect.poll(() => stderr, { timeout: 15_000 }).toContain('Following from position 1');
      await events.appendToStream('watched', [{ type: 'test.Noted', data: { n: 1 } }]);
      await events.appendToStream('other', [{ type: 'test.Noted', data: { n: 2 } }]);
      await events.appendToStream('watched', [{ type: 'test.Noted', data: { n: 3 } }]);
      await expect.poll(() => stdout.trim().split('\n').length, { timeout: 15_000 }).toBe(2);
    } finally {
      child.kill('SIGINT');
      await store.close();
    }
    expect(await exited).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .map((row: { stream: string; data: { n: number } }) => [row.stream, row.data.n]),
    ).toEqual([
      ['watched', 1],
      ['watched', 3],
    ]);
  });
});

/** Runs SQL on a SQLite file outside any store, as an operator's tool would. */
function onFile<T>(filename: string, work: (database: Database.Database) => T): T {
  const database = new Database(filename);
  try {
    return work(database);
  } finally {
    database.close();
  }
}

describeCli('SQLite', async () => {
  const filename = join(mkdtempSync(join(tmpdir(), 'causeway-cli-')), 'orders.db');
  return {
    store: await createSqliteStore({ filename }),
    args: ['--db', filename],
    ageReceipts: async (days) =>
      onFile(filename, (database) => {
        database.prepare('UPDATE inbox SET received_at = received_at - ?').run(days * 86_400_000);
      }),
  };
});

describe('causeway on a database at another schema version', () => {
  it('refuses to open an older one (opening would migrate it) and a newer one, exits 2, and writes nothing', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'causeway-cli-')), 'old.db');
    await (await createSqliteStore({ filename })).close();
    const version = () =>
      onFile(filename, (database) =>
        database.prepare('SELECT max(version) AS v FROM schema_migrations').get(),
      ) as {
        v: number;
      };
    onFile(filename, (database) =>
      database.prepare('DELETE FROM schema_migrations WHERE version = ?').run(sqliteSchemaVersion),
    );
    const older = await causeway('streams', 'list', '--db', filename);
    expect(older.code).toBe(2);
    expect(older.stderr).toContain(
      `at version ${sqliteSchemaVersion - 1}, this causeway's @causeway/sqlite at ${sqliteSchemaVersion}: opening it would migrate it`,
    );
    expect(version().v).toBe(sqliteSchemaVersion - 1);

    onFile(filename, (database) =>
      database
        .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?), (?, ?)')
        .run(sqliteSchemaVersion, 'then', sqliteSchemaVersion + 1, 'later'),
    );
    const newer = await causeway('doctor', '--db', filename);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toContain('upgrade @causeway/cli');
  });
});

describeWithService('postgres', 'causeway on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('cli');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeCli('a PostgreSQL schema', async () => ({
    store: await createPostgresStore({ connectionString: database.url, schema: 'orders' }),
    args: ['--db', database.url, '--schema', 'orders'],
    ageReceipts: async (days) => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query('UPDATE orders.inbox SET received_at = received_at - make_interval(days => $1)', [
          days,
        ]);
      } finally {
        await client.end();
      }
    },
  }));

  it('doctor warns when autovacuum is off for the tables every message updates, and names the fix', async () => {
    const checkOf = async () =>
      (
        JSON.parse(
          (await causeway('doctor', '--db', database.url, '--schema', 'orders', '--json')).stdout,
        ) as Array<{ check: string; status: string; detail: string; fix?: string }>
      ).find((check) => check.check === 'autovacuum');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
      const serverOn = rows[0]!.autovacuum === 'on';
      // As the server is: ok when on, a warning naming ALTER SYSTEM when off.
      expect(await checkOf()).toMatchObject(
        serverOn ? { status: 'ok' } : { status: 'warn', fix: expect.stringContaining('autovacuum = on') },
      );
      await client.query('ALTER TABLE orders.outbox SET (autovacuum_enabled = false)');
      expect(await checkOf()).toMatchObject({
        status: 'warn',
        detail: serverOn
          ? expect.stringContaining('orders.{outbox}')
          : expect.stringContaining('off on this server'),
      });
    } finally {
      await client.query('ALTER TABLE orders.outbox RESET (autovacuum_enabled)').catch(() => {});
      await client.end();
    }
  });

  it("lists the database's replication slots with the WAL each holds back", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("SELECT pg_create_logical_replication_slot('cli_status_slot', 'pgoutput')");
      await client.query('CREATE TABLE IF NOT EXISTS orders.cdc_filler (n int)');
      await client.query('INSERT INTO orders.cdc_filler SELECT generate_series(1, 1000)');
      const status = await causeway('cdc', 'status', '--db', database.url, '--schema', 'orders', '--json');
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toEqual([
        {
          slot: 'cli_status_slot',
          plugin: 'pgoutput',
          active: false,
          walStatus: 'reserved',
          behindBytes: expect.any(Number),
        },
      ]);
      expect(JSON.parse(status.stdout)[0].behindBytes).toBeGreaterThan(0);
    } finally {
      await client.query("SELECT pg_drop_replication_slot('cli_status_slot')").catch(() => {});
      await client.end();
    }
  });

  it('names a schema without Causeway tables, and exits 2', async () => {
    const wrong = await causeway('streams', 'list', '--db', database.url, '--schema', 'nothing_here');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('No Causeway tables in schema "nothing_here"');
  });
});

describe('causeway doctor on brokers that do not answer', () => {
  it('says what to check when nothing is named, and exits 2', async () => {
    const none = await causeway('doctor');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--db <file-or-url> (or CAUSEWAY_DB), --nats <url> (or CAUSEWAY_NATS)');
    expect(none.stderr).toContain('--rabbitmq <amqp-url> (or CAUSEWAY_RABBITMQ)');
  });

  it('fails each closed port with what to do, without a database, and exits 1', async () => {
    const [natsPort, rabbitMqPort] = [await closedPort(), await closedPort()];
    const doctor = await causeway(
      'doctor',
      '--nats',
      `nats://127.0.0.1:${natsPort}`,
      '--rabbitmq',
      `amqp://guest:guest@127.0.0.1:${rabbitMqPort}`,
      '--json',
    );
    expect(doctor.code).toBe(1);
    const checks = checksOf(doctor);
    expect(Object.keys(checks)).toEqual(['nats', 'rabbitmq']);
    expect(checks.nats).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`ECONNREFUSED 127.0.0.1:${natsPort}`),
      fix: expect.stringContaining('nats-server -js'),
    });
    expect(checks.rabbitmq).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`amqp://guest:***@127.0.0.1:${rabbitMqPort}`),
      fix: expect.stringContaining('rabbitmq-server'),
    });
  });
});

describeWithService('nats', 'causeway doctor on NATS', () => {
  const url = serviceUrl('nats');
  // Streams of this file only: the doctor counts and reads the replicas of <prefix>_* streams.
  const prefix = `CLIDOCTOR${process.pid}`;
  let version: string;
  beforeAll(async () => {
    const nc = await connectNats({ servers: url });
    try {
      version = nc.info!.version;
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: `${prefix}_orders`, subjects: [`${prefix}.orders.*`], num_replicas: 1 });
    } finally {
      await nc.close();
    }
  });
  afterAll(async () => {
    await deleteStreamsWithPrefix(url, prefix);
  });

  it("reports the server's version and JetStream, and warns that its acks are not fsynced", async () => {
    const doctor = await causeway('doctor', '--nats', url, '--transport-prefix', prefix, '--json');
    expect(doctor.code).toBe(0);
    const checks = checksOf(doctor);
    expect(checks.nats).toEqual({ check: 'nats', status: 'ok', detail: `nats-server ${version} at ${url}` });
    expect(checks['nats jetstream']).toMatchObject({
      status: 'ok',
      detail: `enabled; 1 stream(s) named ${prefix}_*`,
    });
    const [major = 0, minor = 0] = version.split('.').map(Number);
    const ack = checks['nats ack durability'];
    expect(ack?.status).toBe('warn');
    if (major === 2 && minor < 10) {
      // A single 2.9 server: no sync_interval setting, so no ack waits for fsync.
      expect(ack?.detail).toBe(
        `NATS JetStream acks are not fsynced (replicas 1): acknowledged messages can be lost on power loss (the lowest of 1 ${prefix}_* stream(s))`,
      );
      expect(ack?.fix).toContain(`nats-server ${version} cannot fsync before acking`);
      expect(ack?.fix).toContain('sync_interval: always, or use replicas >= 3 on a cluster');
    } else {
      expect(ack?.detail).toContain('not checked: pass --nats-monitor');
    }
  });

  it('takes the server from CAUSEWAY_NATS, and checks a database beside it', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'causeway-cli-doctor-')), 'orders.db');
    await (await createSqliteStore({ filename })).close();
    const doctor = await causewayWithEnvironment(
      { CAUSEWAY_NATS: url, CAUSEWAY_DB: filename },
      'doctor',
      '--json',
    );
    expect(doctor.code).toBe(0);
    expect(Object.keys(checksOf(doctor))).toEqual([
      'schema',
      'journal_mode',
      'outbox',
      'dead letters',
      'retention',
      'sagas',
      'nats',
      'nats jetstream',
      'nats ack durability',
    ]);
  });
});

describeWithService('rabbitmq', 'causeway doctor on RabbitMQ', () => {
  const url = serviceUrl('rabbitmq');
  let server: { product: string; version: string; platform: string };
  beforeAll(async () => {
    const connection = await connectRabbitMq(url);
    server = connection.connection.serverProperties;
    await connection.close();
  });

  it('reports the broker and its version, and says that queue types need the management API', async () => {
    const doctor = await causewayWithEnvironment({ CAUSEWAY_RABBITMQ: url }, 'doctor', '--json');
    expect(doctor.code).toBe(0);
    const checks = checksOf(doctor);
    expect(checks.rabbitmq).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`${server.product} ${server.version} on ${server.platform} at amqp://`),
    });
    expect(checks['rabbitmq queues']).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('not checked: pass --rabbitmq-management'),
      fix: expect.stringContaining('--rabbitmq-management http://host:15672'),
    });
  });

  it("fails a queue of the transport's prefix that the management API lists as classic", async () => {
    // The management plugin (.ci/run enables it: rabbitmq-plugins enable rabbitmq_management).
    const management = process.env.RABBITMQ_MANAGEMENT_URL || 'http://127.0.0.1:15672';
    const connection = await connectRabbitMq(url);
    const channel = await connection.createChannel();
    const prefix = `clidoctor${Date.now().toString(36)}`;
    await channel.assertQueue(`${prefix}.orders.billing.0`, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await channel.assertQueue(`${prefix}.orders.billing.1`, {
      durable: true,
      arguments: { 'x-queue-type': 'classic' },
    });
    try {
      const run = (transportPrefix: string) =>
        causeway(
          'doctor',
          '--rabbitmq',
          url,
          '--rabbitmq-management',
          management,
          '--transport-prefix',
          transportPrefix,
          '--json',
        );
      const classic = await run(prefix);
      expect(classic.code, classic.stderr).toBe(1);
      expect(checksOf(classic)['rabbitmq queues']).toMatchObject({
        status: 'fail',
        detail: `1 of 2 queue(s) named ${prefix}.* in vhost / are not quorum: ${prefix}.orders.billing.1 (classic)`,
        fix: expect.stringContaining('rabbitmqctl delete_queue'),
      });
      const missing = await run(`${prefix}nobody`);
      expect(missing.code).toBe(0);
      expect(checksOf(missing)['rabbitmq queues']).toMatchObject({ status: 'warn', fix: expect.any(String) });
    } finally {
      await channel.deleteQueue(`${prefix}.orders.billing.0`).catch(() => {});
      await channel.deleteQueue(`${prefix}.orders.billing.1`).catch(() => {});
      await connection.close();
    }
  });
});
