import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Delivery, newMessageId, type Subscription, type TransportMessage } from '@causeway/core';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEmbeddedTransport, type EmbeddedTransportOptions } from './embedded-transport.ts';

const directory = mkdtempSync(join(tmpdir(), 'causeway-embedded-retention-'));
let files = 0;

/** A transport on a new file, without the prune timer unless asked: each test prunes when it wants. */
function open(options: Partial<EmbeddedTransportOptions> = {}) {
  const filename = join(directory, `retention-${++files}.db`);
  const transport = createEmbeddedTransport({ filename, pruneIntervalMs: 0, ...options });
  onTestFinished(() => transport.close());
  return { transport, filename };
}

/** A second connection to the file, to look at what the log holds. */
function inspect(filename: string) {
  const db = new Database(filename, { readonly: true });
  onTestFinished(() => {
    db.close();
  });
  return {
    payloads: (destination: string) =>
      db
        .prepare<[string], string>(
          'SELECT payload FROM transport_messages WHERE destination = ? ORDER BY seq',
        )
        .pluck()
        .all(destination)
        .map((payload) => JSON.parse(payload)),
    pragma: (name: string) => db.pragma(name, { simple: true }) as number,
  };
}

function message(destination: string, orderingKey: string, payload: unknown): TransportMessage {
  return { id: newMessageId(), destination, orderingKey, type: 't', payload };
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

/** Subscribes a handler that acks everything and records the payloads, in delivery order. */
async function consume(
  transport: ReturnType<typeof open>['transport'],
  group: string,
  destinations: string[],
): Promise<{ seen: unknown[]; subscription: Subscription }> {
  const seen: unknown[] = [];
  const subscription = await transport.subscribe({ group, destinations }, async (delivery: Delivery) => {
    seen.push(delivery.message.payload);
    await delivery.ack();
  });
  return { seen, subscription };
}

/** Collects the process warnings of one test. */
function captureWarnings(): string[] {
  const warnings: string[] = [];
  const listener = (warning: Error) => warnings.push(warning.message);
  process.on('warning', listener);
  onTestFinished(() => {
    process.off('warning', listener);
  });
  return warnings;
}

describe('embedded transport retention', () => {
  it('deletes acked entries past retentionMs, keeps a known group’s unread entries until maxAgeMs', async () => {
    // Wide windows: on a loaded machine the steps below may each take hundreds of ms, and every
    // check must still fall in the window it is about.
    const retentionMs = 1_000;
    const maxAgeMs = 4_000;
    const { transport, filename } = open({ retentionMs, maxAgeMs, partitions: 4 });
    const log = inspect(filename);
    const warnings = captureWarnings();

    // Group "audit" subscribes once and stops: it is known, and has read nothing of "orders".
    const audit = await consume(transport, 'audit', ['orders']);
    await audit.subscription.close();

    const orders = Array.from({ length: 12 }, (_, index) => message('orders', `k${index % 5}`, index));
    const shipments = Array.from({ length: 12 }, (_, index) => message('shipments', `k${index % 5}`, index));
    const unheard = Array.from({ length: 3 }, (_, index) => message('unheard', 'k', index));
    // The entries are stamped between these two: waits count from the later, checks of "not yet"
    // from the earlier (a loaded machine may take a while to publish).
    const publishingAt = Date.now();
    await transport.publish([...orders, ...shipments, ...unheard]);
    const publishedAt = Date.now();

    const billing = await consume(transport, 'billing', ['orders', 'shipments']);
    await waitUntil(() => billing.seen.length === 24);

    // Younger than retentionMs: nothing goes, acked or not.
    if (Date.now() - publishingAt < retentionMs - 500) expect(await transport.prune()).toBe(0);
    expect(log.payloads('shipments')).toHaveLength(12);

    await sleepUntil(publishedAt + retentionMs + 20);
    // "shipments": acked by every known group. "unheard": no group knows it. "orders": audit has
    // not read it, so it stays.
    expect(await transport.prune()).toBe(12 + 3);
    expect(log.payloads('shipments')).toEqual([]);
    expect(log.payloads('unheard')).toEqual([]);
    expect(log.payloads('orders')).toHaveLength(12);
    expect(await transport.prune()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);

    await sleepUntil(publishedAt + maxAgeMs + 20);
    expect(await transport.prune()).toBe(12);
    expect(log.payloads('orders')).toEqual([]);
    await waitUntil(() => warnings.length > 0);
    expect(warnings.join('\n')).toMatch(/deleted 12 messages older than maxAgeMs .* not acked yet/);

    // After pruning, cursors still hold: billing goes on where it was, audit (whose unread
    // entries are gone) gets the new entries only, and a new group starts at the oldest entry kept.
    const next = [message('orders', 'k1', 'new-1'), message('orders', 'k2', 'new-2')];
    await transport.publish(next);
    const auditAgain = await consume(transport, 'audit', ['orders']);
    const newcomer = await consume(transport, 'newcomer', ['orders', 'shipments']);
    await waitUntil(
      () => billing.seen.length === 26 && auditAgain.seen.length === 2 && newcomer.seen.length === 2,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(billing.seen.slice(24).sort()).toEqual(['new-1', 'new-2']);
    expect(auditAgain.seen.sort()).toEqual(['new-1', 'new-2']);
    expect(newcomer.seen.sort()).toEqual(['new-1', 'new-2']);
    expect(billing.seen).toHaveLength(26);
  });

  it('keeps per-key order across a prune: only a head of the log is ever deleted', async () => {
    const { transport, filename } = open({ retentionMs: 0, partitions: 2 });
    const log = inspect(filename);
    // No group knows "d" yet: everything is past retentionMs (0) at once; more than one batch
    // (1000 rows) per partition.
    await transport.publish(
      Array.from({ length: 2_500 }, (_, index) => message('d', `k${index % 3}`, index)),
    );
    expect(await transport.prune()).toBe(2_500);
    expect(log.payloads('d')).toEqual([]);
    await transport.publish(
      Array.from({ length: 30 }, (_, index) => message('d', `k${index % 3}`, 2_500 + index)),
    );
    const again = await consume(transport, 'g', ['d']);
    await waitUntil(() => again.seen.length === 30);
    for (const key of [0, 1, 2]) {
      const ofKey = (again.seen as number[]).filter((index) => index % 3 === key);
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
  });

  it('moves a partition on when the message it had in flight is deleted past maxAgeMs', async () => {
    // Far above the 100 ms the test waits after 'after', so a slow machine cannot age it out too.
    const maxAgeMs = 1_500;
    const { transport } = open({ retentionMs: 100, maxAgeMs, partitions: 1 });
    captureWarnings();
    const seen: unknown[] = [];
    await transport.subscribe({ group: 'slow', destinations: ['d'] }, async (delivery) => {
      seen.push(delivery.message.payload);
      // The first message keeps failing: it stays in flight, and its key waits behind it.
      if (delivery.message.payload === 'stuck') await delivery.retry(60_000);
      else await delivery.ack();
    });
    const publishedAt = Date.now();
    await transport.publish([message('d', 'k', 'stuck')]);
    await waitUntil(() => seen.length === 1);
    await sleepUntil(publishedAt + maxAgeMs + 20);
    await transport.publish([message('d', 'k', 'after')]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual(['stuck']);
    expect(await transport.prune()).toBe(1);
    await waitUntil(() => seen.length === 2, 2_000);
    expect(seen).toEqual(['stuck', 'after']);
  });

  it('prunes on its own every pruneIntervalMs', async () => {
    const { transport, filename } = open({ retentionMs: 0, pruneIntervalMs: 50 });
    const log = inspect(filename);
    const { seen } = await consume(transport, 'g', ['d']);
    await transport.publish([message('d', 'k', 1), message('d', 'k', 2)]);
    await waitUntil(() => seen.length === 2);
    await waitUntil(() => log.payloads('d').length === 0, 2_000);
  });

  it('gives the freed pages back to the file system (new files use incremental auto_vacuum)', async () => {
    const { transport, filename } = open({ retentionMs: 0 });
    const log = inspect(filename);
    expect(log.pragma('auto_vacuum')).toBe(2);
    const big = 'x'.repeat(4_000);
    for (let batch = 0; batch < 5; batch++) {
      await transport.publish(Array.from({ length: 200 }, (_, index) => message('d', `k${index}`, big)));
    }
    const pagesBefore = log.pragma('page_count');
    expect(pagesBefore).toBeGreaterThan(1_000);
    // No group knows "d": everything is past retentionMs (0) at once.
    expect(await transport.prune()).toBe(1_000);
    expect(log.pragma('freelist_count')).toBe(0);
    expect(log.pragma('page_count')).toBeLessThan(pagesBefore / 10);
  });

  it('validates the retention options', () => {
    expect(() => open({ retentionMs: -1 })).toThrow(/retentionMs must be/);
    expect(() => open({ retentionMs: 1_000, maxAgeMs: 999 })).toThrow(/maxAgeMs must be at least/);
    expect(() => open({ pruneIntervalMs: -5 })).toThrow(/pruneIntervalMs must be/);
    expect(() => open({ retentionMs: 1_000, maxAgeMs: Number.POSITIVE_INFINITY })).not.toThrow();
  });

  it('rejects prune() after close', async () => {
    const { transport } = open();
    await transport.close();
    await expect(transport.prune()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
