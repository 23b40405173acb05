/** The shop's processes as the supervisor runs them: script, environment, health URL, summary. */
import {
  configEnvNames,
  configToEnv,
  instanceName,
  instancesOf,
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
  instance = 0,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && !configEnvNames.includes(name)) env[name] = value;
  }
  return { ...env, ...configToEnv(config), SHOP_SERVICE: service, SHOP_INSTANCE: String(instance) };
}

export function storeOf(config: ShopConfig, service: ServiceName): string {
  return config.postgresUrl
    ? `postgres ${postgresDatabaseFor(config, service)}`
    : `sqlite ${displayPath(sqliteFileFor(config, service))}`;
}

/** The HTTP API behind the gateway (docs/shop-api.md). */
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
  return serviceNames.flatMap((service) =>
    Array.from({ length: instancesOf(config, service) }, (_, instance) => {
      const base = `http://127.0.0.1:${portOf(config, service, instance)}`;
      const isGateway = service === 'gateway';
      return {
        name: instanceName(service, instance),
        script: scriptOf(service),
        env: childEnv(config, service, inherited, instance),
        healthUrl: isGateway ? `${gatewayUrl(config)}/health` : `${base}/admin/health`,
        healthHeaders,
        describe: isGateway ? gatewayUrl(config) : `${base}  ${storeOf(config, service)}`,
      };
    }),
  );
}
