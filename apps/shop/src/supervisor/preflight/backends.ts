/**
 * Do the configured servers answer? Each check opens one real connection with a short timeout,
 * does the least a service will need (PostgreSQL a query, NATS a JetStream call, Redis a ping),
 * and closes it. A check resolves to undefined when all is well, else to why not, as words that
 * follow "<Server> at <url>": `refused the connection`, `has no JetStream`.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { connect as connectAmqp } from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';

export const backendTimeoutMs = 2_000;

/** What went wrong, for a sentence: the first cause in the chain with a socket error code wins. */
export function describeFailure(error: unknown, timeoutMs: number): string {
  const seen = new Set<unknown>();
  for (let cause = error; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause);
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'refused the connection';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'has a host name that does not resolve';
    if (code === 'ETIMEDOUT' || /timed? ?out|timeout/i.test(cause.message)) {
      return `did not answer within ${timeoutMs / 1000} s`;
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return 'closed the connection (is it the right port?)';
    // ioredis and NATS wrap the socket error in one of their own with the same words.
    if (/connection refused|ECONNREFUSED/i.test(cause.message)) return 'refused the connection';
  }
  return `failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** The server's maintenance database (`postgres`), where the services create their own databases. */
function maintenanceUrl(postgresUrl: string): string {
  const url = new URL(postgresUrl);
  url.pathname = '/postgres';
  return url.toString();
}

/** Connects to the server's `postgres` database as the configured user and runs `SELECT 1`. */
export async function checkPostgres(
  postgresUrl: string,
  timeoutMs = backendTimeoutMs,
): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: maintenanceUrl(postgresUrl),
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on('error', () => {}); // a failure shows as the rejected connect or query
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '28P01' || code === '28000') return `refused the login (${(error as Error).message})`;
    if (code === '3D000') return `has no database "postgres" to create the shop's databases from`;
    return describeFailure(error, timeoutMs);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Connects without reconnecting and asks JetStream for the account's limits. */
export async function checkNats(natsUrl: string, timeoutMs = backendTimeoutMs): Promise<string | undefined> {
  let connection: Awaited<ReturnType<typeof connectNats>>;
  try {
    connection = await connectNats({
      servers: natsUrl.split(',').map((server) => server.trim()),
      name: 'causeway-shop-preflight',
      timeout: timeoutMs,
      reconnect: false,
    });
  } catch (error) {
    return describeFailure(error, timeoutMs);
  }
  try {
    await jetstreamManager(connection, { timeout: timeoutMs });
    return undefined;
  } catch (error) {
    return `has no JetStream (${(error as Error).message})`;
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Opens and closes one AMQP connection (the handshake checks the user and the vhost). */
export async function checkRabbitMq(
  rabbitmqUrl: string,
  timeoutMs = backendTimeoutMs,
): Promise<string | undefined> {
  try {
    const connection = await connectAmqp(rabbitmqUrl, { timeout: timeoutMs });
    connection.on('error', () => {});
    await connection.close().catch(() => {});
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    if (/ACCESS[-_]REFUSED|403/.test(message)) return `refused the login (${message})`;
    return describeFailure(error, timeoutMs);
  }
}

/**
 * Connects once (no retries, no offline queue) and sends PING. The first error event decides:
 * ioredis reports a silent server's timed-out ready check at once, but rejects `connect()` only
 * seconds later.
 */
export async function checkRedis(
  redisUrl: string,
  timeoutMs = backendTimeoutMs,
): Promise<string | undefined> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  const failed = new Promise<never>((_, reject) => redis.on('error', reject));
  failed.catch(() => {}); // it is awaited only in the race below
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), failed]);
    return undefined;
  } catch (error) {
    return describeFailure(error, timeoutMs);
  } finally {
    redis.disconnect();
  }
}
