/**
 * Starts the whole shop as `npm start` does (the supervisor, eight services and the gateway as
 * processes, from the compiled JavaScript that vitest's global setup builds) on a fresh DATA_DIR
 * and ports of its own, for end-to-end tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.ts';
import { processesOf, type ServicesHealth } from './shop-processes.ts';

const supervisorScript = fileURLToPath(new URL('../../dist/supervisor/main.js', import.meta.url));

export interface RunningShop {
  api: string;
  dataDir: string;
  output: () => string;
  /** Stops the shop and removes its data, unless `keepData` or KEEP_SHOP_DATA says to keep it. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startShop(env: Record<string, string> = {}): Promise<RunningShop> {
  const dataDir = mkdtempSync(join(tmpdir(), 'causeway-shop-'));
  const mostInstances = Math.max(
    1,
    ...Object.values(loadConfig([], { SHOP_INSTANCES: env.SHOP_INSTANCES }).instances),
  );
  const port = await freePortBlock(portsPerShop * mostInstances);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [supervisorScript], {
    env: { ...process.env, ...env, PORT: String(port), DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const api = `http://127.0.0.1:${port}/api`;
  const stop = async (options: { keepData?: boolean } = {}) => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (!options.keepData && !process.env.KEEP_SHOP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const health = await fetch(`${api}/health`).then(
      (r) => (r.ok ? r.json() : null),
      () => null,
    );
    const processes = processesOf((health as { services?: ServicesHealth } | null)?.services ?? {});
    if (processes.length > 0 && processes.every((each) => each.status === 'up')) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the shop did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { api, dataDir, output: () => output, stop };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads until `done` holds or the time is up; returns the last value read (the caller asserts on it). */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await pause(options.everyMs ?? 100);
  }
}

const portsPerShop = 9;

/**
 * A base port whose `count` ports are free now: nine (the gateway's and the eight services'), nine
 * more per extra instance (SHOP_INSTANCES). Far from
 * the machine's own services (3306, 4222, 5432, 5672, 6379...), below the range the kernel hands
 * to outgoing connections (so no client socket takes one before the shop starts), and in a range of its own per
 * vitest worker, so that two shops started at once by two test files never share ports (a shop
 * that finds its ports taken would see the other shop's gateway answer its health check).
 */
export async function freePortBlock(count = portsPerShop): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? 1) % 8;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 21_000 + worker * 2_000 + Math.floor(Math.random() * ((2_000 - count) / 10)) * 10;
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error(`no block of ${count} free ports found for the shop`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
