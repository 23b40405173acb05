import { connect } from 'node:net';
import pg from 'pg';
import { beforeAll, describe, it } from 'vitest';

/** The external services integration tests run against; each has a loopback default. */
export type ServiceName = 'postgres' | 'postgres-replica' | 'nats' | 'rabbitmq' | 'redis';

const services: Record<ServiceName, { variable: string; url: string; start: string }> = {
  postgres: {
    variable: 'POSTGRES_URL',
    url: 'postgres://postgres@127.0.0.1:5432/test',
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  // A streaming replica of `postgres` (hot standby): scripts/pg-replica.sh makes one.
  'postgres-replica': {
    variable: 'POSTGRES_REPLICA_URL',
    url: 'postgres://postgres@127.0.0.1:5433/test',
    start: 'scripts/pg-replica.sh (as root: a replica of 127.0.0.1:5432 on port 5433)',
  },
  nats: {
    variable: 'NATS_URL',
    url: 'nats://127.0.0.1:4222',
    start:
      'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server',
  },
  rabbitmq: {
    variable: 'RABBITMQ_URL',
    url: 'amqp://guest:guest@127.0.0.1:5672',
    start: 'rabbitmq-server -detached',
  },
  redis: {
    variable: 'REDIS_URL',
    url: 'redis://127.0.0.1:6379',
    start: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379',
  },
};

const defaultPorts: Record<ServiceName, number> = {
  postgres: 5432,
  'postgres-replica': 5433,
  nats: 4222,
  rabbitmq: 5672,
  redis: 6379,
};

/** The URL of a service: its environment variable (e.g. POSTGRES_URL) or the loopback default. */
export function serviceUrl(name: ServiceName): string {
  const service = services[name];
  return process.env[service.variable] || service.url;
}

/** True when a TCP connection to the service's host and port opens within the timeout. */
export function isServiceListening(name: ServiceName, timeoutMs = 1000): Promise<boolean> {
  const url = new URL(serviceUrl(name));
  const port = Number(url.port) || defaultPorts[name];
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port });
    const finish = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** True when PostgreSQL accepts a connection at POSTGRES_URL (or the replica's URL, as a standby) and answers. */
export async function isPostgresReachable(
  name: 'postgres' | 'postgres-replica' = 'postgres',
): Promise<boolean> {
  const client = new pg.Client({ connectionString: serviceUrl(name), connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const [row] = (await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')).rows;
    return row?.standby === (name === 'postgres-replica');
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function isReachable(name: ServiceName): Promise<boolean> {
  return name === 'postgres' || name === 'postgres-replica'
    ? isPostgresReachable(name)
    : isServiceListening(name);
}

// Probed once per test file at import (top-level await): describe.skipIf needs a plain boolean.
const reachability = Object.fromEntries(
  await Promise.all(
    (Object.keys(services) as ServiceName[]).map(async (name) => [name, await isReachable(name)] as const),
  ),
) as Record<ServiceName, boolean>;

/** Whether the service answered when this module loaded. */
export function wasServiceReachable(name: ServiceName): boolean {
  return reachability[name];
}

function unreachableMessage(name: ServiceName): string {
  const service = services[name];
  return `${name} not reachable at ${serviceUrl(name)}; start it with \`${service.start}\` or set ${service.variable}`;
}

/**
 * A describe block that needs something real: a service, a binary, a browser. When `missing`
 * says what is absent, the suite is skipped with a loud warning, except under CI=true where it
 * fails, so a broken CI setup cannot pass silently.
 */
export function describeRequiring(title: string, missing: string | null, body: () => void): void {
  if (missing === null) {
    describe(title, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      beforeAll(() => {
        throw new Error(`${missing} (CI=true: a missing service is a failure)`);
      });
      it('has what it needs', () => {});
    });
    return;
  }
  const bar = '='.repeat(100);
  console.warn(`\n${bar}\nSKIPPED: ${title}: ${missing} — CI=true makes this a failure\n${bar}\n`);
  describe.skip(title, body);
}

/** A describe block that needs a real service (see describeRequiring). */
export function describeWithService(name: ServiceName, title: string, body: () => void): void {
  describeRequiring(title, reachability[name] ? null : unreachableMessage(name), body);
}
