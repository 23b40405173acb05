import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from './embedded-transport.ts';

const dir = mkdtempSync(join(tmpdir(), 'causeway-embedded-wakeups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const publisherScript = fileURLToPath(new URL('./test-support/embedded-publisher.ts', import.meta.url));

/** Runs the publisher child to its end, passing each line it prints to `onLine`. */
function publishFromAnotherProcess(
  args: { filename: string; destination: string; count: number; gapMs: number },
  onLine: (line: string) => void,
) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@causeway/source',
      publisherScript,
      args.filename,
      args.destination,
      String(args.count),
      String(args.gapMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  return new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`publisher exited with ${code ?? signal}`)),
    );
  });
}

describe('cross-process wake-ups', () => {
  it('a subscriber whose poll would wait a minute gets each publish of another process before the next one', async () => {
    const filename = join(dir, 'transport.db');
    const transport = createEmbeddedTransport({
      filename,
      pollIntervalMs: 60_000,
      idlePollIntervalMs: 60_000,
    });
    // One timeline of both sides, in the order this process saw them.
    const timeline: string[] = [];
    const subscription = await transport.subscribe(
      { group: 'woken', destinations: ['wake.test'] },
      async (delivery) => {
        timeline.push(`delivered ${delivery.message.id}`);
        await delivery.ack();
      },
    );
    const count = 3;
    // A second between publishes: the subscriber is idle again before each one, so each publish
    // must wake it by itself; a poll could not (a minute), nor the publisher's close (after all).
    await publishFromAnotherProcess({ filename, destination: 'wake.test', count, gapMs: 1_000 }, (line) =>
      timeline.push(line),
    );
    const published = timeline
      .filter((entry) => entry.startsWith('published '))
      .map((entry) => entry.slice(10));
    expect(published).toHaveLength(count);
    // Each message is delivered before the publisher's next step (its next publish, or closing).
    const at = (entry: string) => timeline.indexOf(entry);
    const nextStep = [...published.slice(1).map((id) => `published ${id}`), 'closing'];
    const late = published.filter((id, index) => {
      const delivered = at(`delivered ${id}`);
      return delivered === -1 || delivered > at(nextStep[index]!);
    });
    expect(late, timeline.join('\n')).toEqual([]);
    await subscription.close();
    await transport.close();
  }, 30_000);
});
