import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const lockDirectory = join(tmpdir(), 'causeway-rabbitmq-broker.lock');

/**
 * A lock across test files (vitest runs them in parallel workers): the restart test stops the
 * shared broker, so every RabbitMQ test file holds this lock while it runs. A lock left by a
 * dead process is taken over. Resolves with the release function.
 */
export async function lockBroker(timeoutMs = 180_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      await mkdir(lockDirectory);
      await writeFile(join(lockDirectory, 'pid'), String(process.pid));
      return () => rm(lockDirectory, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale()) await rm(lockDirectory, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`${lockDirectory} still held after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function isStale(): Promise<boolean> {
  const pid = Number(await readFile(join(lockDirectory, 'pid'), 'utf8').catch(() => 'NaN'));
  if (!Number.isInteger(pid)) {
    // No pid yet: the holder is between mkdir and writeFile, unless it died there long ago.
    const created = await stat(lockDirectory).then(
      (info) => info.mtimeMs,
      () => Date.now(),
    );
    return Date.now() - created > 10_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
