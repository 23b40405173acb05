/**
 * `npm start` itself (main.ts, the real shop from its sources): it says at once, in one line,
 * why it cannot start; it stops with a service's own error when that service cannot start; and
 * when it can, it says where the dashboard is. Each run gets its own ports and DATA_DIR.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { configEnvNames } from '../config.ts';
import { freePortBlock } from '../e2e/running-shop.ts';
import { readStatusFile } from './status-file.ts';
import {
  freePort,
  holdPort,
  isAlive,
  type PortHolderProcess,
  temporaryDir,
  waitFor,
} from './test-support/helpers.ts';

const mainScript = fileURLToPath(new URL('./main.ts', import.meta.url));

interface StartedShop {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once it exits; rejects after `timeoutMs` (and kills it). */
  exitCode: (timeoutMs: number) => Promise<number | null>;
}

const started: ChildProcess[] = [];
const holders: PortHolderProcess[] = [];
afterEach(async () => {
  // A failed test must leave neither a shop nor a port holder behind.
  await Promise.all(started.splice(0).map(stopIfRunning));
  await Promise.all(holders.splice(0).map((holder) => holder.release()));
});

/** Ctrl-C, as a person would: the shop stops its children; SIGKILL if it has not exited in 20 s. */
async function stopIfRunning(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Runs main.ts with `args` and only the shop settings in `env` (none inherited from this machine). */
function startShop(args: readonly string[], env: Record<string, string>): StartedShop {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !configEnvNames.includes(name)),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@causeway/source', mainScript, ...args],
    {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exitCode = async (timeoutMs: number) => {
    const code = await Promise.race([exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
    if (code !== 'timeout') return code;
    child.kill('SIGKILL');
    throw new Error(`npm start still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`);
  };
  return { child, stdout: () => stdout, stderr: () => stderr, exitCode };
}

describe('npm start', () => {
  it('exits 1 with one line naming the taken port, the pid holding it and a free --port', async () => {
    const port = await freePortBlock();
    const holder = await holdPort(port + 1);
    holders.push(holder);
    const dataDir = join(temporaryDir(), 'data');

    const shop = startShop([], { PORT: String(port), DATA_DIR: dataDir });

    expect(await shop.exitCode(30_000)).toBe(1);
    expect(shop.stdout()).toBe('');
    const lines = shop.stderr().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^port ${port + 1} \\(users\\) is in use by pid ${holder.pid} \\(node\\): ` +
          'stop it, or start the shop on other ports with --port \\d+00$',
      ),
    );
    expect(existsSync(dataDir)).toBe(false); // nothing was started, not even a log
  }, 60_000);

  it('exits 1 with one line naming the server that refused, without its password, and the fix', async () => {
    const closed = await freePort();
    const dataDir = join(temporaryDir(), 'data');
    const postgres = `postgres://shop:secret@127.0.0.1:${closed}/shop`;

    const shop = startShop(['--postgres', postgres], {
      PORT: String(await freePortBlock()),
      DATA_DIR: dataDir,
    });

    expect(await shop.exitCode(30_000)).toBe(1);
    expect(shop.stdout()).toBe('');
    expect(shop.stderr()).toBe(
      `PostgreSQL at postgres://shop:***@127.0.0.1:${closed}/shop refused the connection: ` +
        'start it, or drop --postgres to keep the data in SQLite files\n',
    );
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it("stops every process with the service's own error when it dies at every start", async () => {
    const dataDir = temporaryDir();
    mkdirSync(dataDir, { recursive: true });
    // What a disk error or a stray file leaves: the orders service cannot open its database.
    writeFileSync(join(dataDir, 'orders.db'), 'not a database, '.repeat(64));

    const shop = startShop([], { PORT: String(await freePortBlock()), DATA_DIR: dataDir });

    expect(await shop.exitCode(150_000)).toBe(1);
    const stderr = shop.stderr();
    expect(stderr).toContain(
      'The shop stopped: orders exited 3 times in a row without ever answering its health check',
    );
    expect(stderr).toMatch(/^ {2}StoreFailureError: .*file is not a database/m);
    expect(stderr.trim().split('\n').length).toBeLessThan(8); // its error, not its stack
    // Nothing is left: not the orders service, not the seven that had started fine.
    const pids = [...shop.stdout().matchAll(/ pid (\d+) /g)].map((match) => Number(match[1]));
    expect(pids.length).toBeGreaterThanOrEqual(3);
    expect(pids.filter(isAlive)).toEqual([]);
    const services = Object.values(readStatusFile(join(dataDir, 'supervisor.json'))!.services);
    expect(services.filter((service) => service.status !== 'stopped' || service.pid !== null)).toEqual([]);
  }, 180_000);

  it('says where the dashboard is once the shop is up, and stops on Ctrl-C', async () => {
    const port = await freePortBlock();
    const shop = startShop([], { PORT: String(port), DATA_DIR: temporaryDir() });

    await waitFor('the ready banner', () => shop.stdout().includes('Press Ctrl-C to stop.'), 150_000);
    expect(shop.stdout()).toContain(
      `Shop ready: http://127.0.0.1:${port}/  (the dashboard; the API is http://127.0.0.1:${port}/api)`,
    );
    const dashboard = await fetch(`http://127.0.0.1:${port}/`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toMatch(/^text\/html/);

    shop.child.kill('SIGINT');
    expect(await shop.exitCode(30_000)).toBe(0);
  }, 180_000);
});
