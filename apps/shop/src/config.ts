/**
 * The shop's settings, and the one place that reads them: environment variables, overridden by
 * command-line flags. The supervisor hands each child its configuration back as environment
 * variables (`configToEnv`), so every process of one shop agrees on ports, data and backends.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** The services behind the gateway, in port order: `users` is PORT + 1, ..., `analytics` PORT + 8. */
export const backendServiceNames = [
  'users',
  'catalog',
  'inventory',
  'orders',
  'payments',
  'shipping',
  'query',
  'analytics',
] as const;
export const serviceNames = [...backendServiceNames, 'gateway'] as const;
export type BackendServiceName = (typeof backendServiceNames)[number];
export type ServiceName = (typeof serviceNames)[number];

export interface ShopConfig {
  /** The gateway's port; the services listen on the 8 ports above it. */
  port: number;
  /** Absolute: SQLite files, the embedded transport log, supervisor.json. */
  dataDir: string;
  /** When set, each service uses its own database on this server (see `postgresUrlFor`). */
  postgresUrl?: string;
  /** A streaming replica of that server: each service's store reads from it where a read allows. */
  postgresReplicaUrl?: string;
  postgresDbPrefix: string;
  transport: 'embedded' | 'nats' | 'rabbitmq';
  natsUrl: string;
  rabbitmqUrl: string;
  /** Prefix of NATS streams / RabbitMQ exchanges, so that two shops can share a broker. */
  streamPrefix: string;
  cache: 'lru' | 'redis';
  redisUrl: string;
  paymentTimeoutMs: number;
  dailySalesRefreshMs: number;
  /** How often the analytics service writes gold and bronze as Parquet; 0: only when asked. */
  analyticsExportMs: number;
  /** How often the analytics service recomputes gold in full and compares (Lambda); 0: only when asked. */
  analyticsRecomputeMs: number;
  /** The least time between two runs of the data contracts' quality rules (after model runs). */
  analyticsQualityMs: number;
  /** The least time between the starts of two scheduled model runs (0: back to back while changes come). */
  analyticsRunSpacingMs: number;
  /** The least time between two pushes of gold's sales ranks to the catalog (reverse ETL). */
  salesRankSyncMs: number;
  idempotencyTtlMs: number;
  /** How often each service deletes old inbox receipts and published outbox rows; 0: never. */
  retentionIntervalMs: number;
  /** Inbox receipts younger than this are kept: longer than the transport may redeliver (see docs/messaging.md). */
  inboxRetentionMs: number;
  /** Published outbox rows younger than this are kept (for audits and debugging only). */
  publishedOutboxRetentionMs: number;
  /**
   * Processes per service (1 when not named). Instance k (from 0) of a service listens on its
   * port + 9k: the shop's block of nine ports, once more per extra instance.
   */
  instances: Partial<Record<ServiceName, number>>;
  /**
   * Every process exports OpenTelemetry traces over OTLP/HTTP, to where the standard OTEL_*
   * variables say (default http://localhost:4318).
   */
  tracing: boolean;
  /**
   * Where the gateway (the shop's one public port) listens: loopback unless set. The services
   * always listen on loopback. Anything else needs dev mode off.
   */
  host: string;
  /** Required (as `Authorization: Bearer <token>`) by admin actions when `dev` is off; admin reads take it too. */
  adminToken?: string;
  /** Read-only: admin reads and `/metrics` take it when `dev` is off, admin actions do not (dashboards, scrapers). */
  readToken?: string;
  /** Admin actions need no token, and dev-only helpers (poison messages) are on. */
  dev: boolean;
}

export class ShopConfigError extends Error {
  override name = 'ShopConfigError';
}

interface Setting {
  env: string;
  flag?: string;
  /** Shown when the value is refused and in `configHelp()`. */
  allowed: string;
  defaultText?: string;
}

const defaultPort = 3000;
/** Ports of one instance of every service: the gateway's and the eight above it. */
const portsPerInstance = serviceNames.length;
export const maxInstances = 8;
/**
 * Services that run once: analytics (its DuckDB file takes one writer) and the gateway (the one
 * public port). The rest share their database and the broker, so any number of each can run.
 */
export const singletonServices = ['analytics', 'gateway'] as const;
const minute = 60_000;
const day = 24 * 60 * minute;
const highestPort = 65_535 - backendServiceNames.length;
const postgresDbPrefixMaxLength = 63 - '_inventory'.length; // PostgreSQL truncates names at 63 bytes

const settings = {
  port: {
    env: 'PORT',
    flag: 'port',
    allowed: `a whole number from 1 to ${highestPort}`,
    defaultText: '3000',
  },
  dataDir: {
    env: 'DATA_DIR',
    flag: 'data-dir',
    allowed: 'a directory path',
    defaultText: '.data, or .data/<PORT> when PORT is not 3000',
  },
  postgresUrl: {
    env: 'SHOP_POSTGRES_URL',
    flag: 'postgres',
    allowed: 'a postgres:// or postgresql:// URL',
    defaultText: 'unset: SQLite files in DATA_DIR',
  },
  postgresReplicaUrl: {
    env: 'SHOP_POSTGRES_REPLICA_URL',
    flag: 'postgres-replica',
    allowed: 'a postgres:// or postgresql:// URL of a streaming replica of SHOP_POSTGRES_URL',
    defaultText: 'unset: every read on the primary',
  },
  postgresDbPrefix: {
    env: 'SHOP_POSTGRES_DB_PREFIX',
    flag: 'db-prefix',
    allowed: `lowercase letters, digits and _, not starting with a digit, at most ${postgresDbPrefixMaxLength} characters`,
    defaultText: 'shop, or shop_<PORT> when PORT is not 3000',
  },
  transport: {
    env: 'SHOP_TRANSPORT',
    flag: 'transport',
    allowed: 'embedded, nats or rabbitmq',
    defaultText: 'embedded',
  },
  natsUrl: {
    env: 'NATS_URL',
    allowed: 'a nats://, tls://, ws:// or wss:// URL',
    defaultText: 'nats://127.0.0.1:4222',
  },
  rabbitmqUrl: {
    env: 'RABBITMQ_URL',
    allowed: 'an amqp:// or amqps:// URL',
    defaultText: 'amqp://guest:guest@127.0.0.1:5672',
  },
  streamPrefix: {
    env: 'SHOP_STREAM_PREFIX',
    flag: 'stream-prefix',
    allowed: 'letters, digits, _ and -',
    defaultText: 'shop, or shop_<PORT> when PORT is not 3000',
  },
  cache: { env: 'SHOP_CACHE', flag: 'cache', allowed: 'lru or redis', defaultText: 'lru' },
  redisUrl: {
    env: 'REDIS_URL',
    allowed: 'a redis:// or rediss:// URL',
    defaultText: 'redis://127.0.0.1:6379',
  },
  paymentTimeoutMs: {
    env: 'SHOP_PAYMENT_TIMEOUT_MS',
    flag: 'payment-timeout-ms',
    allowed: 'a whole number of milliseconds, at least 1',
    defaultText: '10000',
  },
  dailySalesRefreshMs: {
    env: 'SHOP_DAILY_SALES_REFRESH_MS',
    allowed: 'a whole number of milliseconds, at least 100',
    defaultText: '60000',
  },
  analyticsExportMs: {
    env: 'SHOP_ANALYTICS_EXPORT_MS',
    allowed: 'a whole number of milliseconds: 0 (only when asked) or at least 1000',
    defaultText: '60000 (1 minute)',
  },
  analyticsRecomputeMs: {
    env: 'SHOP_ANALYTICS_RECOMPUTE_MS',
    allowed: 'a whole number of milliseconds: 0 (only when asked) or at least 1000',
    defaultText: '600000 (10 minutes)',
  },
  analyticsQualityMs: {
    env: 'SHOP_ANALYTICS_QUALITY_MS',
    allowed: 'a whole number of milliseconds, at least 500',
    defaultText: '30000',
  },
  analyticsRunSpacingMs: {
    env: 'SHOP_ANALYTICS_RUN_SPACING_MS',
    allowed: 'a whole number of milliseconds, up to 60000',
    defaultText: '0',
  },
  salesRankSyncMs: {
    env: 'SHOP_SALES_RANK_SYNC_MS',
    allowed: 'a whole number of milliseconds: 0 (after every model run) up to 50000',
    defaultText: '20000',
  },
  idempotencyTtlMs: {
    env: 'SHOP_IDEMPOTENCY_TTL_MS',
    allowed: 'a whole number of milliseconds, at least 1000',
    defaultText: '86400000 (a day)',
  },
  retentionIntervalMs: {
    env: 'SHOP_RETENTION_INTERVAL_MS',
    allowed: 'a whole number of milliseconds: 0 (no retention) or at least 100',
    defaultText: '300000 (5 minutes)',
  },
  inboxRetentionMs: {
    env: 'SHOP_INBOX_RETENTION_MS',
    allowed: 'a whole number of milliseconds, at least 1000',
    defaultText:
      '2592000000 (30 days: the embedded transport redelivers an unacked message for up to 30 days)',
  },
  publishedOutboxRetentionMs: {
    env: 'SHOP_OUTBOX_RETENTION_MS',
    allowed: 'a whole number of milliseconds, at least 0',
    defaultText: '86400000 (1 day)',
  },
  instances: {
    env: 'SHOP_INSTANCES',
    flag: 'instances',
    allowed: `service=count pairs separated by commas (orders=2,payments=2), or all=count; a count from 1 to ${maxInstances}; ${singletonServices.join(' and ')} run once`,
    defaultText: 'one process per service',
  },
  tracing: {
    env: 'SHOP_TRACING',
    flag: 'tracing',
    allowed: 'true or false (also 1/0, yes/no, on/off)',
    defaultText: 'false',
  },
  host: {
    env: 'HOST',
    flag: 'host',
    allowed: 'an IP address or host name to listen on',
    defaultText: '127.0.0.1',
  },
  adminToken: { env: 'SHOP_ADMIN_TOKEN', allowed: 'any text', defaultText: 'unset' },
  readToken: { env: 'SHOP_READ_TOKEN', allowed: 'any text', defaultText: 'unset' },
  dev: {
    env: 'SHOP_DEV',
    allowed: 'true or false (also 1/0, yes/no, on/off)',
    defaultText: 'true, or false when SHOP_ADMIN_TOKEN is set',
  },
} as const satisfies Record<keyof ShopConfig, Setting>;

type SettingKey = keyof typeof settings;

const wholeNumber = z.coerce.number().int();
const urlWithScheme = (scheme: RegExp) => z.url({ protocol: scheme });

// Input: the raw text of each setting (undefined when not given); output: a ShopConfig.
const configSchema = z.object({
  port: wholeNumber.min(1).max(highestPort).default(defaultPort),
  dataDir: z
    .string()
    .optional()
    .transform((dir) => (dir === undefined ? undefined : resolve(dir))),
  postgresUrl: urlWithScheme(/^postgres(ql)?$/).optional(),
  postgresReplicaUrl: urlWithScheme(/^postgres(ql)?$/).optional(),
  postgresDbPrefix: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .max(postgresDbPrefixMaxLength)
    .optional(),
  transport: z.enum(['embedded', 'nats', 'rabbitmq']).default('embedded'),
  natsUrl: urlWithScheme(/^(nats|tls|ws|wss)$/).default('nats://127.0.0.1:4222'),
  rabbitmqUrl: urlWithScheme(/^amqps?$/).default('amqp://guest:guest@127.0.0.1:5672'),
  streamPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  cache: z.enum(['lru', 'redis']).default('lru'),
  redisUrl: urlWithScheme(/^rediss?$/).default('redis://127.0.0.1:6379'),
  paymentTimeoutMs: wholeNumber.min(1).default(10_000),
  dailySalesRefreshMs: wholeNumber.min(100).default(60_000),
  analyticsExportMs: wholeNumber
    .max(2 ** 31 - 1)
    .refine((ms) => ms === 0 || ms >= 1000)
    .default(minute),
  analyticsRecomputeMs: wholeNumber
    .max(2 ** 31 - 1)
    .refine((ms) => ms === 0 || ms >= 1000)
    .default(10 * minute),
  analyticsQualityMs: wholeNumber
    .min(500)
    .max(2 ** 31 - 1)
    .default(30_000),
  analyticsRunSpacingMs: wholeNumber.max(60_000).default(0),
  // At most 50 s: `salesRank` must reach the catalog within 60 s of the sales that change it.
  salesRankSyncMs: wholeNumber.max(50_000).default(20_000),
  idempotencyTtlMs: wholeNumber
    .min(1000)
    .max(2 ** 31 - 1)
    .default(day),
  retentionIntervalMs: wholeNumber
    .max(2 ** 31 - 1)
    .refine((ms) => ms === 0 || ms >= 100)
    .default(5 * minute),
  inboxRetentionMs: wholeNumber.min(1000).default(30 * day),
  publishedOutboxRetentionMs: wholeNumber.min(0).default(day),
  instances: z
    .string()
    .optional()
    .transform((text, context) => {
      const instances = parseInstances(text ?? '');
      if (instances === undefined) context.addIssue({ code: 'custom', message: 'instances' });
      return instances ?? {};
    }),
  tracing: z.stringbool().default(false),
  host: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]-]+$/)
    .default('127.0.0.1'),
  adminToken: z.string().optional(),
  readToken: z.string().optional(),
  dev: z.stringbool().optional(),
} satisfies Record<SettingKey, z.ZodType>);

/** Where a setting comes from, for messages: `SHOP_TRANSPORT (--transport)`. */
export function settingLabel(key: keyof ShopConfig): string {
  const setting: Setting = settings[key];
  return setting.flag ? `${setting.env} (--${setting.flag})` : setting.env;
}

/** How a person changes a setting on the command line: `--postgres`, or its variable when it has no flag. */
export function flagOf(key: keyof ShopConfig): string {
  const setting: Setting = settings[key];
  return setting.flag ? `--${setting.flag}` : setting.env;
}

const flagOptions = Object.fromEntries(
  Object.values(settings as Record<SettingKey, Setting>)
    .filter((setting) => setting.flag !== undefined)
    .map((setting) => [setting.flag, { type: 'string' as const }]),
);

function readFlags(argv: readonly string[]): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: flagOptions,
      strict: true,
      allowPositionals: false,
    });
    return values as Record<string, string | undefined>;
  } catch (error) {
    const allowed = Object.keys(flagOptions)
      .map((flag) => `--${flag}`)
      .join(', ');
    throw new ShopConfigError(`${(error as Error).message}\nAllowed flags: ${allowed} (each takes a value).`);
  }
}

/**
 * Reads the configuration; a flag wins over its environment variable, an empty variable counts
 * as unset. Throws a ShopConfigError naming every refused setting and what it accepts.
 */
export function loadConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): ShopConfig {
  const flags = readFlags(argv);
  const raw: Partial<Record<SettingKey, string>> = {};
  for (const key of Object.keys(settings) as SettingKey[]) {
    const setting: Setting = settings[key];
    const value = (setting.flag ? flags[setting.flag] : undefined) ?? env[setting.env];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const refused = new Set(result.error.issues.map((issue) => issue.path[0] as SettingKey));
    const lines = [...refused].map(
      (key) => `  ${settingLabel(key)} = ${JSON.stringify(raw[key])}: expected ${settings[key].allowed}`,
    );
    throw new ShopConfigError(`Invalid shop configuration:\n${lines.join('\n')}`);
  }
  const { dev, postgresDbPrefix, streamPrefix, dataDir, ...rest } = result.data;
  if (rest.postgresReplicaUrl && !rest.postgresUrl) {
    throw new ShopConfigError(
      `Invalid shop configuration:\n  ${settingLabel('postgresReplicaUrl')} is set without ${settingLabel('postgresUrl')}: a replica needs its primary; set both, or neither`,
    );
  }
  const singleton = singletonServices.find(
    (service) => (rest.instances as Record<string, number>)[service]! > 1,
  );
  if (singleton) {
    throw new ShopConfigError(
      `Invalid shop configuration:\n  ${settingLabel('instances')} asks for several ${singleton} processes: ${singleton} runs once (${singleton === 'analytics' ? 'its DuckDB file takes one writer' : 'it is the one public port'}); leave it out`,
    );
  }
  const lastPort = Math.max(
    ...serviceNames.map((service) =>
      portOf(rest as ShopConfig, service, instancesOf(rest as ShopConfig, service) - 1),
    ),
  );
  if (lastPort > 65_535) {
    throw new ShopConfigError(
      `Invalid shop configuration:\n  ${settingLabel('instances')} needs ports up to ${lastPort} from ${settingLabel('port')} ${rest.port}: start from a lower port, or run fewer instances`,
    );
  }
  // A newcomer's `npm start` can click every admin button; setting a token means "guard them".
  const devMode = dev ?? rest.adminToken === undefined;
  if (devMode && !isLoopback(rest.host)) {
    throw new ShopConfigError(
      `Invalid shop configuration:\n  ${settingLabel('host')} = ${JSON.stringify(rest.host)} in dev mode: anyone who reaches it could read every event and run every admin action; set SHOP_ADMIN_TOKEN (which turns dev mode off), or listen on 127.0.0.1`,
    );
  }
  const prefix = defaultPrefixFor(rest.port);
  return {
    ...rest,
    dataDir: dataDir ?? resolve(defaultDataDirFor(rest.port)),
    postgresDbPrefix: postgresDbPrefix ?? prefix,
    streamPrefix: streamPrefix ?? prefix,
    dev: devMode,
  };
}

/** Whether a listen address only takes connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The default database and stream prefix: `shop` on the default port, `shop_<port>` on any
 * other, so that a second shop started with `--port 3100` on the same PostgreSQL server or broker
 * gets databases and streams of its own (`shop_3100_orders`) instead of sharing the first one's.
 */
export function defaultPrefixFor(port: number): string {
  return port === defaultPort ? 'shop' : `shop_${port}`;
}

/**
 * The default data directory: `.data`, or `.data/<port>` for a shop on another port, which then
 * keeps its SQLite files and embedded transport apart from the first shop's.
 */
export function defaultDataDirFor(port: number): string {
  return port === defaultPort ? '.data' : join('.data', String(port));
}

/** The environment that makes a child's `loadConfig([], env)` return this same configuration. */
export function configToEnv(config: ShopConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(settings) as SettingKey[]) {
    const value = key === 'instances' ? instancesText(config.instances) : config[key];
    if (value !== undefined) env[settings[key].env] = String(value);
  }
  return env;
}

/**
 * `orders=2,payments=2` as `{ orders: 2, payments: 2 }`; `all=2` names every service that may run
 * several times; undefined when the text is not that. A later pair wins over an earlier one.
 */
function parseInstances(text: string): ShopConfig['instances'] | undefined {
  const instances: ShopConfig['instances'] = {};
  for (const pair of text.split(',').filter((part) => part.trim() !== '')) {
    const [name, count, ...extra] = pair.split('=').map((part) => part.trim());
    const n = Number(count);
    if (extra.length > 0 || !Number.isInteger(n) || n < 1 || n > maxInstances) return undefined;
    const names =
      name === 'all'
        ? backendServiceNames.filter((service) => !(singletonServices as readonly string[]).includes(service))
        : [name];
    for (const service of names) {
      if (!(backendServiceNames as readonly string[]).includes(service!) && service !== 'gateway')
        return undefined;
      instances[service as ServiceName] = n;
    }
  }
  return instances;
}

function instancesText(instances: ShopConfig['instances']): string | undefined {
  const pairs = Object.entries(instances).filter(([, n]) => n !== undefined && n > 1);
  return pairs.length === 0 ? undefined : pairs.map(([service, n]) => `${service}=${n}`).join(',');
}

/** How many processes of `service` run (1 unless SHOP_INSTANCES says more). */
export function instancesOf(config: ShopConfig, service: string): number {
  return config.instances?.[service as ServiceName] ?? 1;
}

/** Every variable `loadConfig` reads: a child's environment drops inherited ones it should not see. */
export const configEnvNames: readonly string[] = Object.values(settings as Record<SettingKey, Setting>).map(
  (setting) => setting.env,
);

/** One line per setting: variable, flag, default and accepted values (for `--help`). */
export function configHelp(): string {
  return (Object.keys(settings) as SettingKey[])
    .map((key) => {
      const setting: Setting = settings[key];
      return `  ${settingLabel(key).padEnd(46)} ${setting.allowed}; default ${setting.defaultText}`;
    })
    .join('\n');
}

/** The port of a service's process: instance 0 on PORT + 1 + its index, instance k nine ports higher per k. */
export function portOf(config: Pick<ShopConfig, 'port'>, service: string, instance = 0): number {
  const offset = instance * portsPerInstance;
  if (service === 'gateway') return config.port + offset;
  const index = backendServiceNames.indexOf(service as BackendServiceName);
  if (index < 0)
    throw new Error(`Unknown shop service "${service}": expected one of ${serviceNames.join(', ')}`);
  return config.port + 1 + index + offset;
}

/** What the supervisor, its logs and the gateway's health call a process: `orders`, then `orders-2`, `orders-3`. */
export function instanceName(service: string, instance: number): string {
  return instance === 0 ? service : `${service}-${instance + 1}`;
}

/** Every port a service's processes listen on, instance 0 first. */
export function portsOf(config: ShopConfig, service: string): number[] {
  return Array.from({ length: instancesOf(config, service) }, (_, instance) =>
    portOf(config, service, instance),
  );
}

/**
 * How long after a message was published the configured transport may still deliver it (a
 * redelivery of a message whose ack was lost, or a NATS consumer recreated from its first retained
 * message), with the transports' default retention as the shop opens them; null when there is no
 * bound (RabbitMQ keeps an unacked message until a consumer acks it). An inbox receipt pruned
 * sooner lets such a delivery be handled twice.
 */
export function longestRedeliveryMs(config: ShopConfig): number | null {
  switch (config.transport) {
    case 'embedded':
      return 30 * day; // @causeway/embedded defaultMaxAgeMs: unacked entries are kept that long
    case 'nats':
      return 7 * day; // @causeway/nats defaultMaxAgeMs: the streams' max_age
    default:
      return null;
  }
}

/** The PostgreSQL database of a service: `<prefix>_<service>`, e.g. `shop_orders`. */
export function postgresDatabaseFor(config: ShopConfig, service: string): string {
  return `${config.postgresDbPrefix}_${service}`;
}

/** SHOP_POSTGRES_URL (or the replica's URL) with the service's own database in place of the one it names. */
export function postgresUrlFor(
  config: ShopConfig,
  service: string,
  server: 'primary' | 'replica' = 'primary',
): string {
  const base = server === 'primary' ? config.postgresUrl : config.postgresReplicaUrl;
  if (!base) {
    throw new Error(`postgresUrlFor(${service}): SHOP_POSTGRES_URL is not set, the services use SQLite`);
  }
  const url = new URL(base);
  url.pathname = `/${postgresDatabaseFor(config, service)}`;
  return url.toString();
}

/** The SQLite file of a service when PostgreSQL is not configured. */
export function sqliteFileFor(config: ShopConfig, service: string): string {
  return join(config.dataDir, `${service}.db`);
}
