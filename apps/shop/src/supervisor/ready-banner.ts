/**
 * What `npm start` prints once every service is up: the dashboard first (where a newcomer clicks),
 * then where the data and the messages go, with the names this shop gives its databases and
 * streams on a shared server and the flags that change them.
 */
import { flagOf, type ShopConfig, sqliteFileFor } from '../config.ts';
import { displayPath } from './display-path.ts';
import { redactUrl } from './redact-url.ts';
import { dashboardUrl, gatewayUrl } from './shop-services.ts';

export function readyBanner(config: ShopConfig): string[] {
  return [
    '',
    `Shop ready: ${dashboardUrl(config)}  (the dashboard; the API is ${gatewayUrl(config)})`,
    `  data:      ${dataSummary(config)}`,
    `  transport: ${transportSummary(config)}`,
    `  cache:     ${config.cache === 'redis' ? `Redis ${redactUrl(config.redisUrl)}` : 'in memory (LRU)'}`,
    'Press Ctrl-C to stop.',
  ];
}

/** SQLite files are the data directory's own; databases on a server carry the prefix. */
function dataSummary(config: ShopConfig): string {
  if (!config.postgresUrl) return `SQLite files in ${displayPath(config.dataDir)}`;
  const host = new URL(config.postgresUrl).host;
  return `PostgreSQL ${host}, databases ${config.postgresDbPrefix}_* (${flagOf('postgresDbPrefix')})`;
}

/** The names as the brokers spell them: NATS streams `<prefix>_orders`, RabbitMQ `<prefix>.orders`. */
function transportSummary(config: ShopConfig): string {
  const flag = flagOf('streamPrefix');
  switch (config.transport) {
    case 'embedded':
      return `embedded, in ${displayPath(sqliteFileFor(config, 'transport'))}`;
    case 'nats':
      return `NATS ${redactUrl(config.natsUrl)}, streams ${config.streamPrefix}_* (${flag})`;
    case 'rabbitmq':
      return `RabbitMQ ${redactUrl(config.rabbitmqUrl)}, exchanges and queues ${config.streamPrefix}.* (${flag})`;
  }
}
