/**
 * The supervisor as a process of its own, the way `npm start` runs it (test-support/fake-shop.ts:
 * the real Supervisor and signal handling over fake services): how it stops.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readStatusFile } from './status-file.ts';
import { freePort, isAlive, temporaryDir, waitFor } from './test-support/helpers.ts';

const fakeShop = fileURLToPath(new URL('./test-support/fake-shop.ts', import.meta.url));

/** The fake shop as a process, once it printed `ready`: its status file names both children. */
async function startFakeShop(stderr: 'inherit' | 'pipe') {
  const dataDir = temporaryDir();
  const ports = [await freePort(), await freePort()];
  const shop = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@causeway/source', fakeShop, dataDir, ...ports.map(String)],
    { stdio: ['ignore', 'pipe', stderr] },
  );
  let output = '';
  shop.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    await waitFor('ready', () => output.includes('ready'), 25_000);
  } catch (error) {
    shop.kill('SIGKILL');
    throw error;
  }
  const status = readStatusFile(join(dataDir, 'supervisor.json'))!;
  const pids = Object.values(status.services).map((service) => service.pid!);
  return { shop, dataDir, status, pids, output: () => output };
}

describe('the supervisor process (as npm start runs it)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops every child on %s and exits 0',
    async (signal) => {
      const { shop, dataDir, status, pids, output } = await startFakeShop('inherit');
      try {
        expect(status.supervisorPid).toBe(shop.pid);
        expect(pids).toHaveLength(2);
        expect(pids.every(isAlive)).toBe(true);

        const exited = new Promise<[number | null, string | null]>((resolve) =>
          shop.once('exit', (code, exitSignal) => resolve([code, exitSignal])),
        );
        shop.kill(signal);
        expect(await exited).toEqual([0, null]);
        expect(pids.some(isAlive)).toBe(false);
        expect(output()).toContain(`${signal}: stopping the shop...`);
        expect(
          Object.values(readStatusFile(join(dataDir, 'supervisor.json'))!.services).map(
            (service) => service.status,
          ),
        ).toEqual(['stopped', 'stopped']);
      } finally {
        shop.kill('SIGKILL');
      }
    },
    30_000,
  );

  it('stops every child and exits on Ctrl-C even when nobody reads its output any more', async () => {
    // `npm start | tee shop.log`, then Ctrl-C: tee dies first, the supervisor's lines hit EPIPE.
    const { shop, pids } = await startFakeShop('pipe');
    try {
      shop.stdout!.destroy();
      shop.stderr!.destroy();

      const exited = new Promise<number | null>((resolve) => shop.once('exit', (code) => resolve(code)));
      shop.kill('SIGINT');
      // Bounded, so that a supervisor spinning on EPIPE fails here and is killed below.
      expect(await Promise.race([exited, sleep(15_000).then(() => 'still running')])).toBe(0);
      expect(pids.some(isAlive)).toBe(false);
    } finally {
      shop.kill('SIGKILL');
    }
  }, 30_000);
});
