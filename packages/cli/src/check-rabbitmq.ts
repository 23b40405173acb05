/**
 * `causeway doctor --rabbitmq`: checks the RabbitMQ broker a deployment's transport uses. AMQP 0-9-1
 * gives the server's product and version but not a queue's type, so whether Causeway's queues are
 * quorum queues is read from the management API when one is given, and reported as not checked
 * otherwise.
 */
import { connect } from 'amqplib';
import type { Check } from './doctor.ts';
import { reasonOf } from './error-reason.ts';
import { redacted } from './open-database.ts';

export interface RabbitMqTarget {
  /** The broker, e.g. amqp://guest:guest@127.0.0.1:5672 (a path names the vhost). */
  url: string;
  /** The management plugin's address, e.g. http://127.0.0.1:15672. */
  managementUrl?: string;
  /** The transport's `prefix`: its exchanges and queues are named `<prefix>.…` (default `cw`). */
  prefix?: string;
}

const timeoutMs = 5_000;
// createRabbitMqTransport's default `prefix`.
const defaultPrefix = 'cw';
// @causeway/rabbitmq declares its queues with x-queue-type: quorum, which needs 3.8 or later.
const quorumSince = [3, 8] as const;

/** Connects once, reads the server's properties (and the queue list, with management), closes. */
export async function checkRabbitMq(target: RabbitMqTarget): Promise<Check[]> {
  const where = redacted(target.url);
  let connection: Awaited<ReturnType<typeof connect>>;
  try {
    connection = await connect(target.url, { timeout: timeoutMs });
  } catch (error) {
    return [
      {
        check: 'rabbitmq',
        status: 'fail',
        detail: `cannot connect to ${where} (${reasonOf(error)})`,
        fix: connectFix(error),
      },
    ];
  }
  const server: Record<string, unknown> = connection.connection.serverProperties;
  await connection.close().catch(() => {});
  const version = typeof server.version === 'string' ? server.version : undefined;
  return [
    versionCheck(server, version, where),
    target.managementUrl === undefined
      ? {
          check: 'rabbitmq queues',
          status: 'warn',
          detail:
            'not checked: pass --rabbitmq-management; AMQP 0-9-1 does not tell a queue\'s type (Causeway declares its queues with x-queue-type "quorum")',
          fix: "pass --rabbitmq-management http://host:15672 (the rabbitmq_management plugin) to read each queue's type",
        }
      : await checkQueueTypes(target.url, target.managementUrl, target.prefix ?? defaultPrefix),
  ];
}

function versionCheck(server: Record<string, unknown>, version: string | undefined, where: string): Check {
  const product = typeof server.product === 'string' ? server.product : 'the broker';
  const platform = typeof server.platform === 'string' ? ` on ${server.platform}` : '';
  const named = `${product} ${version ?? '(version not announced)'}${platform} at ${where}`;
  const [major = 0, minor = 0] = (version ?? '').split('.').map((part) => Number.parseInt(part, 10));
  const tooOld =
    version !== undefined && (major < quorumSince[0] || (major === quorumSince[0] && minor < quorumSince[1]));
  return tooOld
    ? {
        check: 'rabbitmq',
        status: 'fail',
        detail: `${named}: it has no quorum queues, which the transport declares`,
        fix: `upgrade RabbitMQ to ${quorumSince.join('.')} or later`,
      }
    : { check: 'rabbitmq', status: 'ok', detail: named };
}

function connectFix(error: unknown): string {
  const message = reasonOf(error);
  if (message.includes('ACCESS-REFUSED') || message.includes('ACCESS_REFUSED'))
    return 'check the user and password in the URL (rabbitmqctl list_users); guest may log in from localhost only';
  if (/ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|timeout/i.test(message))
    return 'start the broker (rabbitmq-server -detached), or pass the URL the services use: --rabbitmq amqp://user:password@host:5672';
  return "check the URL's vhost (rabbitmqctl list_vhosts) and the user's permissions on it (rabbitmqctl list_user_permissions)";
}

interface ManagementQueue {
  name: string;
  /** quorum, classic or stream, as the management API reports it; absent means unknown. */
  type?: string;
}

/** GET /api/queues/<vhost>, then the type of every queue named `<prefix>.…` (see rabbitmq-topology.ts). */
async function checkQueueTypes(amqpUrl: string, managementUrl: string, prefix: string): Promise<Check> {
  const check = 'rabbitmq queues';
  const broker = new URL(amqpUrl);
  const vhost = decodeURIComponent(broker.pathname.slice(1)) || '/';
  const endpoint = new URL(`api/queues/${encodeURIComponent(vhost)}`, withTrailingSlash(managementUrl));
  let queues: ManagementQueue[];
  try {
    queues = await fetchQueues(endpoint, broker);
  } catch (error) {
    return {
      check,
      status: 'warn',
      detail: `not checked: could not read ${redacted(endpoint.href)} (${reasonOf(error)})`,
      fix: 'pass the management address (rabbitmq-plugins list shows whether rabbitmq_management runs), as a user tagged management or monitoring',
    };
  }
  const ours = queues.filter((queue) => queue.name.startsWith(`${prefix}.`));
  const where = `named ${prefix}.* in vhost ${vhost}`;
  if (ours.length === 0) {
    return {
      check,
      status: 'warn',
      detail: `no queue ${where}: no Causeway service has declared its topology here`,
      fix: 'start the services, or pass --transport-prefix with the prefix their transport uses',
    };
  }
  const notQuorum = ours.filter((queue) => queue.type !== undefined && queue.type !== 'quorum');
  const untyped = ours.filter((queue) => queue.type === undefined);
  if (notQuorum.length > 0) {
    return {
      check,
      status: 'fail',
      detail: `${notQuorum.length} of ${ours.length} queue(s) ${where} are not quorum: ${listed(notQuorum)}`,
      fix: 'a queue keeps its type for life: stop its consumers, drain or move its messages, delete it (rabbitmqctl delete_queue <name>), and restart the service so the transport declares it as quorum',
    };
  }
  if (untyped.length > 0) {
    return {
      check,
      status: 'warn',
      detail: `not checked: the management API gives no type for ${untyped.length} of ${ours.length} queue(s) ${where}`,
      fix: 'upgrade RabbitMQ (and its management plugin) to 3.8 or later',
    };
  }
  return { check, status: 'ok', detail: `${ours.length} queue(s) ${where}, all quorum` };
}

/** The vhost's queues; the user is the management URL's own, else the broker URL's (amqplib's default: guest). */
async function fetchQueues(endpoint: URL, broker: URL): Promise<ManagementQueue[]> {
  const user = endpoint.username ? endpoint : broker.username ? broker : undefined;
  const credentials = user
    ? `${decodeURIComponent(user.username)}:${decodeURIComponent(user.password)}`
    : 'guest:guest';
  // fetch refuses a URL holding credentials: they go in the header.
  const plain = new URL(endpoint);
  plain.username = '';
  plain.password = '';
  const response = await fetch(plain, {
    headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return (await response.json()) as ManagementQueue[];
}

function listed(queues: readonly ManagementQueue[]): string {
  const shown = queues.slice(0, 5).map((queue) => `${queue.name} (${queue.type})`);
  return queues.length > 5 ? `${shown.join(', ')}, ...` : shown.join(', ');
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
