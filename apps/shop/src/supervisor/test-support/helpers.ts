/** Small helpers of the supervisor tests: free and held ports, waiting, checking a pid is gone. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function temporaryDir(): string {
  return mkdtempSync(join(tmpdir(), 'shop-supervisor-'));
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** A separate process listening on `port` until released, as another program holding a port is. */
export interface PortHolderProcess {
  pid: number;
  release(): Promise<void>;
}

export async function holdPort(port: number, host = '127.0.0.1'): Promise<PortHolderProcess> {
  const script = `require('node:net').createServer().listen(${JSON.stringify({ port, host })}, () => console.log('listening'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(
    `a process listening on ${host}:${port}`,
    () => output.includes('listening') || child.exitCode !== null,
  );
  if (child.exitCode !== null) throw new Error(`could not listen on ${host}:${port}`);
  return {
    pid: child.pid!,
    release: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
