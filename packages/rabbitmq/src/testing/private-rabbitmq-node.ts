import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';

const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A RabbitMQ node of the test's own (own name, ports, data and config), so a test can stop and
 * start it without touching the shared broker other suites use: restarting that one makes it
 * recover every quorum queue on the machine, which stalls every other suite meanwhile.
 */
export async function startPrivateRabbitMqNode() {
  const [port, distributionPort] = [await freePort(), await freePort()];
  const node = `cwtest${port}@localhost`;
  const directory = mkdtempSync(join(tmpdir(), 'causeway-rabbitmq-'));
  for (const sub of ['mnesia', 'log']) mkdirSync(join(directory, sub));
  // The broker runs as the rabbitmq user: it must be able to write here.
  chmodSync(directory, 0o777);
  for (const sub of ['mnesia', 'log']) chmodSync(join(directory, sub), 0o777);
  writeFileSync(join(directory, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${port}\n`, { mode: 0o644 });
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONFIG_FILE: join(directory, 'rabbitmq.conf'),
    RABBITMQ_DIST_PORT: String(distributionPort),
    RABBITMQ_MNESIA_BASE: join(directory, 'mnesia'),
    RABBITMQ_LOG_BASE: join(directory, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(directory, 'plugins'),
    RABBITMQ_PID_FILE: join(directory, 'pid'),
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const ctl = (...args: string[]) => run('rabbitmqctl', ['-n', node, '-t', '60', ...args], { env });

  /** Resolves once the node takes AMQP connections (its port opens before it is ready). */
  async function waitUntilReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const connection = await connect(url).catch(() => undefined);
      if (connection) return connection.close();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`private RabbitMQ node ${node} did not accept connections within ${timeoutMs} ms`);
  }

  await run('rabbitmq-server', ['-detached'], { env });
  await waitUntilReady();
  return {
    url,
    stopApp: () => ctl('stop_app'),
    async startApp() {
      await ctl('start_app');
      await waitUntilReady();
    },
    async shutdown() {
      await ctl('stop').catch(() => {});
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
