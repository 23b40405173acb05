import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newMessageId, type TransportMessage } from '@causeway/core';
import { afterAll, expect, it } from 'vitest';
import { createEmbeddedTransport } from './embedded-transport.ts';

const consumerScript = fileURLToPath(new URL('./test-support/embedded-consumer.ts', import.meta.url));
const keyCount = 20;
const messageCount = 500;

interface Handling {
  id: string;
  key: string;
  index: number;
  attempt: number;
  atNs: bigint;
  child: number;
}

interface Consumer {
  child: ChildProcess;
  ready: Promise<void>;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startConsumer(
  number: number,
  args: string[],
  onHandled: (handling: Handling, child: ChildProcess) => void,
): Consumer {
  // `node --import tsx`, not the tsx CLI: the CLI forks, and SIGKILL must hit the consumer itself.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@causeway/source', consumerScript, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let buffered = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.on('exit', (code, signal) => reject(new Error(`consumer ${number} exited: ${code ?? signal}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') resolve();
        const [word, id, key, index, attempt, atNs] = line.split(' ');
        if (word !== 'handled') continue;
        onHandled(
          {
            id: id!,
            key: key!,
            index: Number(index),
            attempt: Number(attempt),
            atNs: BigInt(atNs!),
            child: number,
          },
          child,
        );
      }
    });
  });
  return { child, ready };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

it('two consumer processes share a group; one is SIGKILLed midway; every message is handled, in order per key', async () => {
  const filename = join(mkdtempSync(join(tmpdir(), 'causeway-embedded-e2e-')), 'transport.db');
  const [group, destination] = ['shop', 'orders.events'];
  const publisher = createEmbeddedTransport({ filename });
  const handled: Handling[] = [];
  let killArmed = false;
  let killedAt = -1;
  let killedAtNs = 0n;
  const onHandled = (handling: Handling, child: ChildProcess) => {
    handled.push(handling);
    // Killed right after it reported an effect: likely inside the gap before its ack.
    if (killArmed && handling.child === 0 && killedAt < 0) {
      child.kill('SIGKILL');
      killedAt = handled.length;
      killedAtNs = process.hrtime.bigint();
    }
  };
  const consumers = [0, 1].map((number) => startConsumer(number, [filename, group, destination], onHandled));
  await Promise.all(consumers.map((consumer) => consumer.ready));

  const keys = Array.from({ length: keyCount }, (_, index) => `order-${index}`);
  const messages: TransportMessage[] = Array.from({ length: messageCount }, (_, seq) => ({
    id: newMessageId(),
    destination,
    orderingKey: keys[seq % keyCount]!,
    type: 'orders.OrderPlaced',
    payload: { index: Math.floor(seq / keyCount) },
  }));
  const publishedAtNs = new Map<string, bigint>();
  for (let start = 0; start < messageCount; start += 10) {
    const batch = messages.slice(start, start + 10);
    const now = process.hrtime.bigint();
    for (const message of batch) publishedAtNs.set(message.id, now);
    await publisher.publish(batch);
    if (start >= messageCount / 2) killArmed = true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(killedAt, 'consumer 0 was killed midway').toBeGreaterThan(0);

  const firstHandled = new Map<string, Handling>();
  await waitFor(() => {
    for (const entry of handled) if (!firstHandled.has(entry.id)) firstHandled.set(entry.id, entry);
    return firstHandled.size >= messageCount;
  }, `all ${messageCount} messages handled (got ${firstHandled.size})`);
  await publisher.close();

  const inRealOrder = [...handled].sort((a, b) => (a.atNs < b.atNs ? -1 : a.atNs > b.atNs ? 1 : 0));
  for (const key of keys) {
    const firstIndexes: number[] = [];
    for (const entry of inRealOrder) {
      if (entry.key === key && !firstIndexes.includes(entry.index)) firstIndexes.push(entry.index);
    }
    expect(firstIndexes, `first handlings of ${key}`).toEqual(firstIndexes.map((_, index) => index));
  }
  expect(new Set(handled.map((entry) => entry.id))).toEqual(new Set(messages.map((message) => message.id)));
  const repeats = inRealOrder.filter((entry) => firstHandled.get(entry.id) !== entry);
  expect(
    repeats.every((entry) => entry.attempt >= 2),
    'a redelivery counts its attempt',
  ).toBe(true);
  // Before the kill: the takeover after it waits for the dead consumer's leases to expire (1 s).
  const latenciesMs = [...firstHandled.values()]
    .filter((entry) => entry.atNs < killedAtNs)
    .map((entry) => Number(entry.atNs - publishedAtNs.get(entry.id)!) / 1e6)
    .sort((a, b) => a - b);
  const duplicates = handled.length - messageCount;
  console.log(
    `embedded e2e: ${handled.length} handlings, ${duplicates} duplicates after the kill, ` +
      `by consumer ${[0, 1].map((child) => handled.filter((entry) => entry.child === child).length).join('/')}, ` +
      `publish→handled before the kill p50 ${percentile(latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(latenciesMs, 99).toFixed(1)} ms`,
  );
  expect(duplicates).toBeLessThanOrEqual(keyCount);
}, 90_000);
