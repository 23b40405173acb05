/**
 * Retention in the running shop: every service (and the gateway) deletes inbox receipts and
 * published outbox rows older than its settings, so however many orders go through, the rows kept
 * stay bounded by what one retention window holds. Orders placed in waves; after each wave, once
 * every process reports a retention pass that began after the wave's rows were old enough, the rows
 * kept must be no more than one wave left behind. Without the timer they grow with every wave.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendServiceNames } from '../config.ts';
import { type RunningShop, startShop, until } from './running-shop.ts';

const retentionSettings = {
  SHOP_RETENTION_INTERVAL_MS: '250',
  SHOP_INBOX_RETENTION_MS: '2000',
  SHOP_OUTBOX_RETENTION_MS: '1000',
};
const oldestKeptMs = 2000;
const waves = 4;
const ordersPerWave = 6;

interface KeptRows {
  count: number;
  oldestAgeMs: number;
}
interface RetentionAnswer {
  enabled: boolean;
  lastPass: { startedAt: string; inboxPruned: number; outboxPruned: number } | null;
  kept: { inboxReceipts: KeptRows; publishedOutbox: KeptRows };
}

let shop: RunningShop;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${shop.api}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Every process's own base URL: the gateway on PORT, the services on the ports above it. */
function processUrls(): Record<string, string> {
  const port = Number(new URL(shop.api).port);
  return Object.fromEntries([
    ['gateway', `http://127.0.0.1:${port}`],
    ...backendServiceNames.map((name, index) => [name, `http://127.0.0.1:${port + 1 + index}`]),
  ]);
}

async function retentionOfEvery(): Promise<Record<string, RetentionAnswer>> {
  const entries = await Promise.all(
    Object.entries(processUrls()).map(async ([name, url]) => {
      const response = await fetch(`${url}/admin/retention`);
      expect(response.status, `${name} GET /admin/retention`).toBe(200);
      return [name, (await response.json()) as RetentionAnswer] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const keptTotal = (answers: Record<string, RetentionAnswer>) =>
  Object.values(answers).reduce(
    (sum, { kept }) => sum + kept.inboxReceipts.count + kept.publishedOutbox.count,
    0,
  );

async function placeWave(userId: string, productId: string): Promise<void> {
  const placed = await Promise.all(
    Array.from({ length: ordersPerWave }, () =>
      api('POST', '/orders', { userId, items: [{ productId, quantity: 1 }], payment: { token: 'tok_visa' } }),
    ),
  );
  for (const { status, body } of placed) {
    expect(status).toBe(202);
    const done = await until(
      () => api('GET', `/orders/${body.orderId}`),
      (answer) => answer.status === 200 && answer.body.status !== 'PENDING',
    );
    expect(done.body.status).toBe('CONFIRMED');
  }
}

describe('retention in every shop service', () => {
  beforeAll(async () => {
    shop = await startShop(retentionSettings);
  }, 120_000);
  afterAll(async () => shop?.stop());

  it('keeps the inbox receipts and published outbox rows of every service bounded, wave after wave', async () => {
    const user = await api('POST', '/users', { name: 'Ada Lovelace', email: 'ada@example.com' });
    const product = await api('POST', '/products', {
      sku: `SKU-${Date.now()}`,
      name: 'Tea',
      priceCents: 300,
    });
    expect((await api('POST', `/inventory/${product.body.id}/restock`, { quantity: 1000 })).status).toBe(200);

    const peaks: number[] = [];
    const settled: number[] = [];
    for (let wave = 0; wave < waves; wave++) {
      await placeWave(user.body.id, product.body.id);
      const waveEnded = Date.now();
      peaks.push(keptTotal(await retentionOfEvery()));
      // Wait for retention's own report, not a clock: a pass in every process that began once
      // everything this wave wrote was older than the longest age kept.
      const after = await until(
        retentionOfEvery,
        (answers) =>
          Object.values(answers).every(
            ({ lastPass }) => lastPass !== null && Date.parse(lastPass.startedAt) > waveEnded + oldestKeptMs,
          ),
        { timeoutMs: 20_000, everyMs: 250 },
      );
      settled.push(keptTotal(after));
    }

    console.log(
      `rows kept, right after each wave: ${peaks.join(', ')}; after retention: ${settled.join(', ')}`,
    );
    // One wave's messages touch every service: a wave leaves dozens of rows behind it.
    expect(peaks[0]).toBeGreaterThan(ordersPerWave * 5);
    // Bounded: after every wave, no more rows than one wave leaves, although 4 waves went through.
    for (const kept of settled) expect(kept).toBeLessThanOrEqual(peaks[0]!);
    // A pass that removed something says so in the service's log, a JSON line naming the process.
    const lines = readFileSync(join(shop.dataDir, 'logs', 'orders.log'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        service: 'orders',
        process: 'orders',
        msg: expect.stringMatching(/^retention: removed \d+ inbox receipts/),
      }),
    );
  }, 240_000);
});
