import { resolve } from 'node:path';
import { defaultMaxAgeMs as embeddedMaxAgeMs } from '@causeway/embedded';
import { describe, expect, it } from 'vitest';
import {
  configHelp,
  configToEnv,
  defaultPrefixFor,
  flagOf,
  instanceName,
  loadConfig,
  longestRedeliveryMs,
  portOf,
  portsOf,
  postgresDatabaseFor,
  postgresUrlFor,
  ShopConfigError,
  serviceNames,
  sqliteFileFor,
} from './config.ts';

const defaults = () => loadConfig([], {});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(defaults()).toEqual({
      port: 3000,
      dataDir: resolve(process.cwd(), '.data'),
      postgresDbPrefix: 'shop',
      transport: 'embedded',
      natsUrl: 'nats://127.0.0.1:4222',
      rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
      streamPrefix: 'shop',
      cache: 'lru',
      redisUrl: 'redis://127.0.0.1:6379',
      paymentTimeoutMs: 10_000,
      dailySalesRefreshMs: 60_000,
      analyticsExportMs: 60_000,
      analyticsRecomputeMs: 600_000,
      analyticsQualityMs: 30_000,
      analyticsRunSpacingMs: 0,
      salesRankSyncMs: 20_000,
      idempotencyTtlMs: 86_400_000,
      retentionIntervalMs: 300_000,
      inboxRetentionMs: 30 * 24 * 3_600_000,
      publishedOutboxRetentionMs: 24 * 3_600_000,
      instances: {},
      tracing: false,
      host: '127.0.0.1',
      dev: true,
    });
    expect(defaults().postgresUrl).toBeUndefined();
    expect(defaults().adminToken).toBeUndefined();
  });

  it('reads every setting from the environment', () => {
    const config = loadConfig([], {
      PORT: '4000',
      DATA_DIR: '/tmp/shop-data',
      SHOP_POSTGRES_URL: 'postgres://app:secret@db.local:5433/ignored?sslmode=disable',
      SHOP_POSTGRES_REPLICA_URL: 'postgres://app:secret@replica.local:5433/ignored',
      SHOP_POSTGRES_DB_PREFIX: 'shop_ci',
      SHOP_TRANSPORT: 'nats',
      NATS_URL: 'nats://nats.local:4223',
      RABBITMQ_URL: 'amqps://user:pw@rabbit.local:5671',
      SHOP_STREAM_PREFIX: 'shop-ci',
      SHOP_CACHE: 'redis',
      REDIS_URL: 'redis://redis.local:6380',
      SHOP_PAYMENT_TIMEOUT_MS: '2500',
      SHOP_DAILY_SALES_REFRESH_MS: '5000',
      SHOP_ANALYTICS_EXPORT_MS: '0',
      SHOP_ANALYTICS_RECOMPUTE_MS: '30000',
      SHOP_ANALYTICS_QUALITY_MS: '1000',
      SHOP_ANALYTICS_RUN_SPACING_MS: '2000',
      SHOP_SALES_RANK_SYNC_MS: '0',
      SHOP_IDEMPOTENCY_TTL_MS: '60000',
      SHOP_RETENTION_INTERVAL_MS: '60000',
      SHOP_INBOX_RETENTION_MS: '864000000',
      SHOP_OUTBOX_RETENTION_MS: '3600000',
      SHOP_INSTANCES: 'orders=2, payments=3',
      SHOP_TRACING: 'on',
      HOST: '0.0.0.0',
      SHOP_ADMIN_TOKEN: 's3cret',
      SHOP_READ_TOKEN: 'look',
      SHOP_DEV: 'false',
    });
    expect(config).toEqual({
      port: 4000,
      dataDir: '/tmp/shop-data',
      postgresUrl: 'postgres://app:secret@db.local:5433/ignored?sslmode=disable',
      postgresReplicaUrl: 'postgres://app:secret@replica.local:5433/ignored',
      postgresDbPrefix: 'shop_ci',
      transport: 'nats',
      natsUrl: 'nats://nats.local:4223',
      rabbitmqUrl: 'amqps://user:pw@rabbit.local:5671',
      streamPrefix: 'shop-ci',
      cache: 'redis',
      redisUrl: 'redis://redis.local:6380',
      paymentTimeoutMs: 2500,
      dailySalesRefreshMs: 5000,
      analyticsExportMs: 0,
      analyticsRecomputeMs: 30_000,
      analyticsQualityMs: 1000,
      analyticsRunSpacingMs: 2000,
      salesRankSyncMs: 0,
      idempotencyTtlMs: 60_000,
      retentionIntervalMs: 60_000,
      inboxRetentionMs: 864_000_000,
      publishedOutboxRetentionMs: 3_600_000,
      instances: { orders: 2, payments: 3 },
      tracing: true,
      host: '0.0.0.0',
      adminToken: 's3cret',
      readToken: 'look',
      dev: false,
    });
  });

  it('is in dev mode unless an admin token is set, and SHOP_DEV says otherwise either way', () => {
    expect(loadConfig([], {}).dev).toBe(true);
    expect(loadConfig([], { SHOP_ADMIN_TOKEN: 's3cret' }).dev).toBe(false);
    expect(loadConfig(['--host', '0.0.0.0'], { SHOP_ADMIN_TOKEN: 's3cret' }).host).toBe('0.0.0.0');
    expect(loadConfig(['--host', 'localhost'], {}).dev).toBe(true);
    // Dev mode opens every admin read and action: it listens on loopback or not at all.
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      expect(() => loadConfig(['--host', host], {})).toThrow(
        /HOST \(--host\) = ".*" in dev mode: .*set SHOP_ADMIN_TOKEN/,
      );
      expect(() => loadConfig(['--host', host], { SHOP_ADMIN_TOKEN: 't', SHOP_DEV: 'true' })).toThrow(
        ShopConfigError,
      );
    }
    expect(loadConfig([], { SHOP_ADMIN_TOKEN: 's3cret', SHOP_DEV: 'true' }).dev).toBe(true);
    expect(loadConfig([], { SHOP_DEV: 'off' }).dev).toBe(false);
  });

  it('refuses a replica without its primary', () => {
    expect(() => loadConfig([], { SHOP_POSTGRES_REPLICA_URL: 'postgres://127.0.0.1:5433/x' })).toThrow(
      /SHOP_POSTGRES_REPLICA_URL.*is set without SHOP_POSTGRES_URL/,
    );
  });

  it('runs every service that may run several times N times with all=N, and a later pair wins', () => {
    expect(loadConfig(['--instances', 'all=2,orders=3'], {}).instances).toEqual({
      users: 2,
      catalog: 2,
      inventory: 2,
      orders: 3,
      payments: 2,
      shipping: 2,
      query: 2,
    });
  });

  it.each([
    ['analytics=2', /several analytics processes: analytics runs once \(its DuckDB file takes one writer\)/],
    ['gateway=2', /several gateway processes: gateway runs once \(it is the one public port\)/],
    ['orders=0', /SHOP_INSTANCES \(--instances\) = "orders=0": expected service=count pairs/],
    ['orders=9', /expected service=count pairs/],
    ['billing=2', /expected service=count pairs/],
    ['orders', /expected service=count pairs/],
    ['orders=2=3', /expected service=count pairs/],
  ])('refuses SHOP_INSTANCES=%s, saying why', (text, message) => {
    expect(() => loadConfig([], { SHOP_INSTANCES: text })).toThrow(ShopConfigError);
    expect(() => loadConfig([], { SHOP_INSTANCES: text })).toThrow(message);
  });

  it('refuses instances whose ports would pass 65535, naming the highest', () => {
    expect(() => loadConfig([], { PORT: '65520', SHOP_INSTANCES: 'query=2' })).toThrow(
      /needs ports up to 65536 from PORT \(--port\) 65520/,
    );
    expect(loadConfig([], { PORT: '65520', SHOP_INSTANCES: 'users=2' }).instances).toEqual({ users: 2 });
  });

  it('resolves a relative DATA_DIR against the working directory', () => {
    expect(loadConfig([], { DATA_DIR: 'var/shop' }).dataDir).toBe(resolve(process.cwd(), 'var/shop'));
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig([], { PORT: '', SHOP_POSTGRES_URL: '', SHOP_TRANSPORT: '' });
    expect(config.port).toBe(3000);
    expect(config.postgresUrl).toBeUndefined();
    expect(config.transport).toBe('embedded');
  });

  it('lets flags override the environment, in both --flag value and --flag=value forms', () => {
    const env = {
      PORT: '4000',
      DATA_DIR: '/tmp/from-env',
      SHOP_TRANSPORT: 'nats',
      SHOP_CACHE: 'redis',
      SHOP_PAYMENT_TIMEOUT_MS: '2500',
    };
    const config = loadConfig(
      [
        '--port',
        '5000',
        '--data-dir=/tmp/from-flag',
        '--postgres',
        'postgresql://localhost/x',
        '--transport',
        'rabbitmq',
        '--cache=lru',
        '--payment-timeout-ms',
        '750',
      ],
      env,
    );
    expect(config).toMatchObject({
      port: 5000,
      dataDir: '/tmp/from-flag',
      postgresUrl: 'postgresql://localhost/x',
      transport: 'rabbitmq',
      cache: 'lru',
      paymentTimeoutMs: 750,
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT (--port) = "abc": expected a whole number from 1 to 65527'],
    [{ PORT: '65530' }, 'PORT (--port) = "65530"'],
    [{ PORT: '3000.5' }, 'PORT (--port) = "3000.5"'],
    [
      { SHOP_TRANSPORT: 'kafka' },
      'SHOP_TRANSPORT (--transport) = "kafka": expected embedded, nats or rabbitmq',
    ],
    [{ SHOP_CACHE: 'memcached' }, 'SHOP_CACHE (--cache) = "memcached": expected lru or redis'],
    [{ SHOP_POSTGRES_URL: 'mysql://localhost/x' }, 'SHOP_POSTGRES_URL (--postgres) = "mysql://localhost/x"'],
    [
      { SHOP_POSTGRES_DB_PREFIX: 'Shop-1' },
      'SHOP_POSTGRES_DB_PREFIX (--db-prefix) = "Shop-1": expected lowercase letters',
    ],
    [{ NATS_URL: 'http://127.0.0.1:4222' }, 'NATS_URL = "http://127.0.0.1:4222": expected a nats://'],
    [{ RABBITMQ_URL: 'not a url' }, 'RABBITMQ_URL = "not a url"'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL = "http://x"'],
    [{ SHOP_STREAM_PREFIX: 'shop.prod' }, 'SHOP_STREAM_PREFIX (--stream-prefix) = "shop.prod"'],
    [{ SHOP_PAYMENT_TIMEOUT_MS: '0' }, 'SHOP_PAYMENT_TIMEOUT_MS (--payment-timeout-ms) = "0"'],
    [{ SHOP_DEV: 'maybe' }, 'SHOP_DEV = "maybe": expected true or false'],
    [{ SHOP_RETENTION_INTERVAL_MS: '50' }, 'SHOP_RETENTION_INTERVAL_MS = "50": expected a whole number'],
    [{ SHOP_RETENTION_INTERVAL_MS: '1e10' }, 'SHOP_RETENTION_INTERVAL_MS = "1e10"'],
    [{ SHOP_INBOX_RETENTION_MS: '10' }, 'SHOP_INBOX_RETENTION_MS = "10": expected a whole number'],
    [{ SHOP_OUTBOX_RETENTION_MS: '-1' }, 'SHOP_OUTBOX_RETENTION_MS = "-1"'],
  ])('refuses %o, saying which setting and what it accepts', (env, message) => {
    expect(() => loadConfig([], env)).toThrow(ShopConfigError);
    expect(() => loadConfig([], env)).toThrow(message);
  });

  it('lists every refused setting at once', () => {
    const error = catchError(() => loadConfig(['--transport', 'kafka'], { PORT: '-1', SHOP_CACHE: 'x' }));
    expect(error.message).toContain('PORT (--port) = "-1"');
    expect(error.message).toContain('SHOP_TRANSPORT (--transport) = "kafka"');
    expect(error.message).toContain('SHOP_CACHE (--cache) = "x"');
  });

  it('refuses a bad flag value even when the environment is fine', () => {
    expect(() => loadConfig(['--port', 'eighty'], { PORT: '4000' })).toThrow('PORT (--port) = "eighty"');
  });

  it('refuses unknown flags and flags without a value, listing the allowed ones', () => {
    expect(() => loadConfig(['--prot', '4000'], {})).toThrow(
      /Unknown option '--prot'[\s\S]*Allowed flags: --port/,
    );
    expect(() => loadConfig(['--port'], {})).toThrow(ShopConfigError);
    expect(() => loadConfig(['extra'], {})).toThrow(ShopConfigError);
  });
});

describe('retention settings', () => {
  it('turns the timer off with 0', () => {
    expect(loadConfig([], { SHOP_RETENTION_INTERVAL_MS: '0' }).retentionIntervalMs).toBe(0);
  });

  it('keeps inbox receipts by default at least as long as each transport may redeliver a message', () => {
    for (const transport of ['embedded', 'nats']) {
      const config = loadConfig([], { SHOP_TRANSPORT: transport });
      expect(config.inboxRetentionMs).toBeGreaterThanOrEqual(longestRedeliveryMs(config)!);
    }
    expect(longestRedeliveryMs(loadConfig([], {}))).toBe(embeddedMaxAgeMs);
    expect(longestRedeliveryMs(loadConfig([], { SHOP_TRANSPORT: 'rabbitmq' }))).toBeNull();
  });
});

describe('configToEnv', () => {
  it('gives a child the environment that loads the same configuration', () => {
    const parent = loadConfig(
      [
        '--port',
        '4100',
        '--postgres',
        'postgres://u:p@h:5432/d',
        '--transport',
        'nats',
        '--instances',
        'orders=2',
      ],
      {
        DATA_DIR: 'relative/dir',
        SHOP_ADMIN_TOKEN: 'token',
        SHOP_DEV: 'no',
      },
    );
    expect(loadConfig([], configToEnv(parent))).toEqual(parent);
    expect(loadConfig([], configToEnv(defaults()))).toEqual(defaults());
  });

  it('leaves unset optional settings out', () => {
    const env = configToEnv(defaults());
    expect(env).not.toHaveProperty('SHOP_POSTGRES_URL');
    expect(env).not.toHaveProperty('SHOP_ADMIN_TOKEN');
    expect(env.PORT).toBe('3000');
  });
});

describe('ports and databases', () => {
  it('puts the gateway on PORT and the services on PORT+1..PORT+8 in the documented order', () => {
    const config = loadConfig([], { PORT: '3000' });
    expect(serviceNames).toEqual([
      'users',
      'catalog',
      'inventory',
      'orders',
      'payments',
      'shipping',
      'query',
      'analytics',
      'gateway',
    ]);
    expect(serviceNames.map((service) => portOf(config, service))).toEqual([
      3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3000,
    ]);
    expect(() => portOf(config, 'billing')).toThrow('Unknown shop service "billing"');
  });

  it('puts instance k of a service nine ports above instance k - 1, and names it service-(k + 1)', () => {
    const config = loadConfig([], { PORT: '3000', SHOP_INSTANCES: 'orders=3' });
    expect(portsOf(config, 'orders')).toEqual([3004, 3013, 3022]);
    expect(portsOf(config, 'users')).toEqual([3001]);
    expect([0, 1, 2].map((instance) => instanceName('orders', instance))).toEqual([
      'orders',
      'orders-2',
      'orders-3',
    ]);
  });

  it('builds a per-service PostgreSQL URL, keeping credentials, host and parameters', () => {
    const config = loadConfig([], {
      SHOP_POSTGRES_URL: 'postgres://app:secret@db.local:5433/postgres?sslmode=require',
      SHOP_POSTGRES_DB_PREFIX: 'test',
    });
    expect(postgresDatabaseFor(config, 'orders')).toBe('test_orders');
    expect(postgresUrlFor(config, 'orders')).toBe(
      'postgres://app:secret@db.local:5433/test_orders?sslmode=require',
    );
    expect(postgresUrlFor(loadConfig([], { SHOP_POSTGRES_URL: 'postgres://h' }), 'users')).toBe(
      'postgres://h/shop_users',
    );
  });

  it('names databases and streams after the port when it is not the default, so two shops do not share them', () => {
    expect(defaultPrefixFor(3000)).toBe('shop');
    const second = loadConfig(['--port', '3100'], { SHOP_POSTGRES_URL: 'postgres://h' });
    expect(second).toMatchObject({ postgresDbPrefix: 'shop_3100', streamPrefix: 'shop_3100' });
    expect(postgresDatabaseFor(second, 'orders')).toBe('shop_3100_orders');
    expect(postgresUrlFor(second, 'orders')).toBe('postgres://h/shop_3100_orders');
    // A prefix given explicitly wins, on any port; the child gets the same prefix back.
    const named = loadConfig(['--port', '3100', '--db-prefix', 'blue', '--stream-prefix=blue-s'], {});
    expect(named).toMatchObject({ postgresDbPrefix: 'blue', streamPrefix: 'blue-s' });
    expect(loadConfig([], { PORT: '3100', SHOP_STREAM_PREFIX: 'shop' }).streamPrefix).toBe('shop');
    expect(loadConfig([], configToEnv(second))).toEqual(second);
    // Its SQLite files and embedded transport live apart too, unless DATA_DIR says otherwise.
    expect(second.dataDir).toBe(resolve(process.cwd(), '.data', '3100'));
    expect(loadConfig(['--port', '3100', '--data-dir', 'shared'], {}).dataDir).toBe(resolve('shared'));
    // The highest port still gives a database name PostgreSQL keeps whole.
    expect(loadConfig(['--port', '65527'], {}).postgresDbPrefix).toBe('shop_65527');
  });

  it('gives each setting its flag, or its variable when it has none', () => {
    expect(flagOf('postgresUrl')).toBe('--postgres');
    expect(flagOf('postgresDbPrefix')).toBe('--db-prefix');
    expect(flagOf('natsUrl')).toBe('NATS_URL');
  });

  it('refuses to build a PostgreSQL URL when PostgreSQL is not configured', () => {
    expect(() => postgresUrlFor(defaults(), 'orders')).toThrow('SHOP_POSTGRES_URL is not set');
  });

  it('puts SQLite files in DATA_DIR', () => {
    expect(sqliteFileFor(loadConfig([], { DATA_DIR: '/srv/shop' }), 'orders')).toBe('/srv/shop/orders.db');
  });

  it('documents every variable in the help text', () => {
    for (const name of Object.keys(
      configToEnv(loadConfig([], { SHOP_POSTGRES_URL: 'postgres://h', SHOP_ADMIN_TOKEN: 't' })),
    )) {
      expect(configHelp()).toContain(name);
    }
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
