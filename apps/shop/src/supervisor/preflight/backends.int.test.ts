/**
 * The server checks against real servers (the machine's PostgreSQL, NATS, RabbitMQ and Redis,
 * from POSTGRES_URL... with loopback defaults) and against closed ports. A missing server skips
 * its suite with a warning, or fails it under CI=true.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describeWithService, serviceUrl } from '@causeway/testing';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.ts';
import { freePort } from '../test-support/helpers.ts';
import { checkNats, checkPostgres, checkRabbitMq, checkRedis, findStartProblem } from './index.ts';

/** A URL of the machine's server with a login changed, e.g. a user who does not exist. */
function withLogin(url: string, username: string, password: string): string {
  const changed = new URL(url);
  changed.username = username;
  changed.password = password;
  return changed.toString();
}

/**
 * Ports no other test takes: a port freePort() found free could be taken a moment later by a
 * shop another test file starts (a CI run's preflight found the users service's port in use and
 * said so before the PostgreSQL problem this test waits for). No test binds a privileged port.
 */
const closedPort = 9;
/** The shop's own first port: privileged as root (CI), else one free a moment ago. */
const shopPort = async () => (process.getuid?.() === 0 ? 700 : await freePort());

describe('a server that is not there', () => {
  it('is a refused connection, for each kind of server', async () => {
    const port = closedPort;
    expect(await checkPostgres(`postgres://shop:secret@127.0.0.1:${port}/shop`)).toBe(
      'refused the connection',
    );
    expect(await checkNats(`nats://127.0.0.1:${port}`)).toBe('refused the connection');
    expect(await checkRabbitMq(`amqp://guest:guest@127.0.0.1:${port}`)).toBe('refused the connection');
    expect(await checkRedis(`redis://127.0.0.1:${port}`)).toBe('refused the connection');
  });

  it('stops the start with one line: the server, its URL without the password, and the fix', async () => {
    const port = closedPort;
    const config = loadConfig(
      ['--port', String(await shopPort()), '--postgres', `postgres://shop:secret@127.0.0.1:${port}/shop`],
      {},
    );
    expect(await findStartProblem(config)).toBe(
      `PostgreSQL at postgres://shop:***@127.0.0.1:${port}/shop refused the connection: ` +
        'start it, or drop --postgres to keep the data in SQLite files',
    );
  });

  it('names the settings to change for the brokers and the cache', async () => {
    const port = closedPort;
    const closed = { NATS_URL: `nats://127.0.0.1:${port}`, REDIS_URL: `redis://:pw@127.0.0.1:${port}` };
    const nats = loadConfig(['--transport', 'nats'], closed);
    expect(await findStartProblem(nats)).toMatch(
      /^NATS at nats:\/\/127\.0\.0\.1:\d+ refused the connection: .*--transport embedded$/,
    );
    const redis = loadConfig(['--cache', 'redis'], closed);
    expect(await findStartProblem(redis)).toBe(
      `Redis at redis://:***@127.0.0.1:${port} refused the connection: start it or set REDIS_URL, or start with --cache lru`,
    );
  });

  it('does not wait past the timeout for a server that accepts the connection and never answers', async () => {
    const silent = createServer(() => {}); // holds every connection open, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = Date.now();
      const problems = await Promise.all([
        checkPostgres(`postgres://shop@127.0.0.1:${port}/shop`, 500),
        checkNats(`nats://127.0.0.1:${port}`, 500),
        checkRabbitMq(`amqp://guest:guest@127.0.0.1:${port}`, 500),
        checkRedis(`redis://127.0.0.1:${port}`, 500),
      ]);
      expect(problems).toEqual(Array.from({ length: 4 }, () => 'did not answer within 0.5 s'));
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });
});

describeWithService('postgres', 'PostgreSQL preflight', () => {
  it('passes for the running server', async () => {
    expect(await checkPostgres(serviceUrl('postgres'))).toBeUndefined();
  });

  it('says the login was refused for a user the server does not know', async () => {
    const url = withLogin(serviceUrl('postgres'), 'no_such_shop_user', '');
    expect(await checkPostgres(url)).toMatch(/^refused the login \(.*no_such_shop_user.*\)$/);
  });
});

describeWithService('nats', 'NATS preflight', () => {
  it('passes for the running server (with JetStream)', async () => {
    expect(await checkNats(serviceUrl('nats'))).toBeUndefined();
  });
});

describeWithService('rabbitmq', 'RabbitMQ preflight', () => {
  it('passes for the running server', async () => {
    expect(await checkRabbitMq(serviceUrl('rabbitmq'))).toBeUndefined();
  });

  it('says the login was refused for a wrong password', async () => {
    const url = withLogin(serviceUrl('rabbitmq'), 'guest', 'not-the-password');
    expect(await checkRabbitMq(url)).toMatch(/^refused the login \(/);
  });
});

describeWithService('redis', 'Redis preflight', () => {
  it('passes for the running server', async () => {
    expect(await checkRedis(serviceUrl('redis'))).toBeUndefined();
  });
});
