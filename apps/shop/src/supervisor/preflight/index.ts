/**
 * `npm start`'s checks before it starts any process: every port the shop will listen on is
 * free, and every server the configuration uses answers. A problem comes back as one line that
 * names it and the fix, so that a shop that cannot run says why at once instead of crash-looping.
 */
import { flagOf, instanceName, portsOf, type ShopConfig, serviceNames } from '../../config.ts';
import { redactUrl } from '../redact-url.ts';
import { backendTimeoutMs, checkNats, checkPostgres, checkRabbitMq, checkRedis } from './backends.ts';
import { describeTakenPorts, findFreePortBlock, findTakenPorts } from './ports.ts';

export { checkNats, checkPostgres, checkRabbitMq, checkRedis } from './backends.ts';
export { findFreePortBlock, findPortHolder, findTakenPorts, isPortFree } from './ports.ts';

interface BackendUse {
  /** The server, as the sentence names it. */
  server: string;
  url: string;
  check: (url: string, timeoutMs: number) => Promise<string | undefined>;
  /** What to do about it: start it, point elsewhere, or do without. */
  fix: string;
}

/** The servers this configuration uses, each with the way to do without it. */
function backendUses(config: ShopConfig): BackendUse[] {
  const uses: BackendUse[] = [];
  if (config.postgresUrl) {
    uses.push({
      server: 'PostgreSQL',
      url: config.postgresUrl,
      check: checkPostgres,
      fix: `start it, or drop ${flagOf('postgresUrl')} to keep the data in SQLite files`,
    });
  }
  const embedded = `${flagOf('transport')} embedded`;
  if (config.transport === 'nats') {
    uses.push({
      server: 'NATS',
      url: config.natsUrl,
      check: checkNats,
      fix: `start nats-server -js or set ${flagOf('natsUrl')}, or start with ${embedded}`,
    });
  }
  if (config.transport === 'rabbitmq') {
    uses.push({
      server: 'RabbitMQ',
      url: config.rabbitmqUrl,
      check: checkRabbitMq,
      fix: `start it or set ${flagOf('rabbitmqUrl')}, or start with ${embedded}`,
    });
  }
  if (config.cache === 'redis') {
    uses.push({
      server: 'Redis',
      url: config.redisUrl,
      check: checkRedis,
      fix: `start it or set ${flagOf('redisUrl')}, or start with ${flagOf('cache')} lru`,
    });
  }
  return uses;
}

/** The first of the shop's ports that is taken, with a `--port` whose ports are all free now. */
async function findPortProblem(config: ShopConfig): Promise<string | undefined> {
  const uses = serviceNames.flatMap((service) =>
    portsOf(config, service).map((port, instance) => ({ port, service: instanceName(service, instance) })),
  );
  const [first, ...rest] = await findTakenPorts(uses);
  if (!first) return undefined;
  const flag = flagOf('port');
  // Several instances leave ports of the block unused: the block still spans to the highest.
  const span = Math.max(...uses.map(({ port }) => port)) - config.port + 1;
  const freeBase = await findFreePortBlock(config.port, span);
  const fix =
    freeBase === undefined
      ? `stop it, or start the shop on ${span} free ports in a row with ${flag} <first>`
      : `stop it, or start the shop on other ports with ${flag} ${freeBase}`;
  return describeTakenPorts([first, ...rest], fix);
}

/**
 * Runs every check at once (within about `timeoutMs`) and resolves to the first problem as one
 * line, ports first, then the servers in the order above; undefined when the shop can start.
 */
export async function findStartProblem(
  config: ShopConfig,
  timeoutMs = backendTimeoutMs,
): Promise<string | undefined> {
  const problems = await Promise.all([
    findPortProblem(config),
    ...backendUses(config).map(async (use) => {
      const problem = await use.check(use.url, timeoutMs);
      return problem && `${use.server} at ${redactUrl(use.url)} ${problem}: ${use.fix}`;
    }),
  ]);
  return problems.find((problem) => problem !== undefined);
}
