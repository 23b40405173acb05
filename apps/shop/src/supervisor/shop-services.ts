/** The shop's processes as the supervisor runs them: script, environment, health URL, summary. */
import {
  configEnvNames,
  configToEnv,
  flagOf,
  portOf,
  postgresDatabaseFor,
  type ServiceName,
  type ShopConfig,
  serviceNames,
  sqliteFileFor,
} from '../config.ts';
import { siblingScript } from './child-command.ts';
import { displayPath } from './display-path.ts';
import type { ServiceEntry } from './supervisor.ts';

/** A service's entry point: the compiled `.js` when the supervisor runs built, else the `.ts` source. */
export function scriptOf(service: ServiceName, moduleUrl: string = import.meta.url): string {
  const relative = service === 'gateway' ? '../gateway/main.ts' : `../services/${service}/main.ts`;
  return siblingScript(relative, moduleUrl);
}

/**
 * The environment of a child: the supervisor's own (PATH, HOME...), minus shop settings that
 * would disagree with the configuration the flags produced, plus that configuration.
 */
export function childEnv(
  config: ShopConfig,
  service: ServiceName,
  inherited: NodeJS.ProcessEnv,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && !configEnvNames.includes(name)) env[name] = value;
  }
  return { ...env, ...configToEnv(config), SHOP_SERVICE: service };
}

export function storeOf(config: ShopConfig, service: ServiceName): string {
  return config.postgresUrl
    ? `postgres ${postgresDatabaseFor(config, service)}`
    : `sqlite ${displayPath(sqliteFileFor(config, service))}`;
}

/** The HTTP API behind the gateway (SHOP-API.md). */
export function gatewayUrl(config: ShopConfig): string {
  return `http://127.0.0.1:${config.port}/api`;
}

/** The dashboard the gateway serves at its root. */
export function dashboardUrl(config: ShopConfig): string {
  return `http://127.0.0.1:${config.port}/`;
}

export function shopServiceEntries(
  config: ShopConfig,
  inherited: NodeJS.ProcessEnv = process.env,
): ServiceEntry[] {
  const healthHeaders: Record<string, string> = config.adminToken
    ? { authorization: `Bearer ${config.adminToken}` }
    : {};
  return serviceNames.map((service) => {
    const base = `http://127.0.0.1:${portOf(config, service)}`;
    const isGateway = service === 'gateway';
    return {
      name: service,
      script: scriptOf(service),
      env: childEnv(config, service, inherited),
      healthUrl: isGateway ? `${gatewayUrl(config)}/health` : `${base}/admin/health`,
      healthHeaders,
      describe: isGateway ? gatewayUrl(config) : `${base}  ${storeOf(config, service)}`,
    };
  });
}

/** Where the data lives and how messages travel, for the "Shop ready" banner. */
export function backendsSummary(config: ShopConfig): string {
  const data = config.postgresUrl
    ? `PostgreSQL ${new URL(config.postgresUrl).host} (databases ${config.postgresDbPrefix}_*)`
    : `SQLite in ${displayPath(config.dataDir)}`;
  const transport = {
    embedded: `embedded (${displayPath(sqliteFileFor(config, 'transport'))})`,
    nats: `NATS ${config.natsUrl}`,
    rabbitmq: `RabbitMQ ${new URL(config.rabbitmqUrl).host}`,
  }[config.transport];
  return `data: ${data}; transport: ${transport}; cache: ${config.cache}`;
}

/**
 * The names this shop gives its PostgreSQL databases and broker streams, with the flags that
 * change them; undefined when it uses neither (SQLite files and the embedded log, in DATA_DIR).
 */
export function namesSummary(config: ShopConfig): string | undefined {
  const names: string[] = [];
  const flags: string[] = [];
  if (config.postgresUrl) {
    names.push(`databases ${config.postgresDbPrefix}_*`);
    flags.push(flagOf('postgresDbPrefix'));
  }
  if (config.transport !== 'embedded') {
    const what = config.transport === 'nats' ? 'NATS streams' : 'RabbitMQ exchanges and queues';
    names.push(`${what} ${config.streamPrefix}*`);
    flags.push(flagOf('streamPrefix'));
  }
  if (names.length === 0) return undefined;
  return `names: ${names.join(', ')} (change with ${flags.join(', ')})`;
}

/** What `npm start` prints once every service is up: where to click first, then the setup. */
export function readyBanner(config: ShopConfig): string[] {
  const names = namesSummary(config);
  return [
    '',
    `Shop ready: dashboard ${dashboardUrl(config)}  API ${gatewayUrl(config)}`,
    `  ${backendsSummary(config)}`,
    ...(names ? [`  ${names}`] : []),
    'Press Ctrl-C to stop.',
  ];
}
