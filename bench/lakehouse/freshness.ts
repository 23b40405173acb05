/**
 * Freshness under the shop's load: the reference shop (embedded defaults) takes orders from
 * `concurrency` clients placing and following them as `npm run load` does (its client and payment
 * mix), while gold's confirmed orders are read through the gateway
 * (`GET /api/analytics/sales?groupBy=day`) every 100 ms. The k-th confirmation by commit time (the
 * orders service's `closedAt` stamp) is fresh in gold at the first read that counts at least k
 * confirmed orders more than before the load; its freshness is that read's arrival minus the
 * commit. The baseline is the same orders' own placed → CONFIRMED time, by the same stamps.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type PaymentToken, paymentTokenMix } from '../../apps/shop/src/load/order-mix.ts';
import { ShopClient } from '../../apps/shop/src/load/shop-client.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { pause, percentile } from '../support/measure.ts';
import { note, startProgress } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';
import { noteRunSplit } from './run-split.ts';
import { buildShop, startEmbeddedShop } from './shop-process.ts';

const concurrency = 8;
const goldReadEveryMs = 100;
const products = 5;
/** How long gold may take to count the last confirmations once the load stops. */
const drainTimeoutMs = 30_000;

interface Catalog {
  userId: string;
  productIds: string[];
}

/** A confirmed order, by the orders service's stamps (ms since the epoch). */
interface Confirmation {
  placedAtMs: number;
  committedAtMs: number;
}

async function prepareCatalog(client: ShopClient): Promise<Catalog> {
  const runId = randomUUID().slice(0, 8);
  const user = await client.post<{ id: string }>('/users', {
    name: 'Lakehouse Bench',
    email: `lakehouse-${runId}@example.test`,
  });
  const productIds: string[] = [];
  for (let index = 1; index <= products; index++) {
    const product = await client.post<{ id: string }>('/products', {
      sku: `BENCH-${runId}-${index}`,
      name: `Bench item ${index}`,
      priceCents: 199 + index * 100,
      currency: 'USD',
    });
    // More than any run can order: a refused reservation would cancel orders for the wrong reason.
    await client.post(`/inventory/${encodeURIComponent(product.body.id)}/restock`, { quantity: 1_000_000 });
    productIds.push(product.body.id);
  }
  return { userId: user.body.id, productIds };
}

/** Gold's count of confirmed orders, read every 100 ms; keeps the time each new count arrived. */
function watchGold(client: ShopClient) {
  const counts: Array<{ atMs: number; orders: number }> = [];
  let stopped = false;
  const readCount = async () => {
    const { body } = await client.get<{ rows: Array<{ orders: number }> }>('/analytics/sales?groupBy=day');
    return body.rows.reduce((sum, row) => sum + row.orders, 0);
  };
  const loop = (async () => {
    while (!stopped) {
      const began = Date.now();
      const orders = await readCount().catch(() => undefined);
      if (orders !== undefined && orders > (counts.at(-1)?.orders ?? -1))
        counts.push({ atMs: Date.now(), orders });
      await pause(Math.max(0, goldReadEveryMs - (Date.now() - began)));
    }
  })();
  return {
    latest: () => counts.at(-1)?.orders ?? 0,
    /** When gold first counted at least `orders` confirmed orders; undefined if it has not yet. */
    reached: (orders: number) => counts.find((count) => count.orders >= orders)?.atMs,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

type GoldWatch = ReturnType<typeof watchGold>;

async function waitForGold(gold: GoldWatch, orders: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (gold.latest() < orders) {
    if (Date.now() > deadline) return false;
    await pause(goldReadEveryMs);
  }
  return true;
}

interface OrderView {
  status: string;
  placedAt?: string;
  closedAt?: string;
}

/** Places one order and follows it to CONFIRMED or CANCELLED, as the load generator does. */
async function placeAndFollow(client: ShopClient, catalog: Catalog, token: PaymentToken) {
  const first = Math.floor(Math.random() * catalog.productIds.length);
  const items = [{ productId: catalog.productIds[first]!, quantity: 1 + Math.floor(Math.random() * 2) }];
  const placed = await client.post<{ orderId: string }>(
    '/orders',
    { userId: catalog.userId, items, payment: { token } },
    randomUUID(),
  );
  const consistencyToken = placed.headers.get('consistency-token');
  const headers: Record<string, string> = consistencyToken ? { 'consistency-token': consistencyToken } : {};
  const path = `/orders/${encodeURIComponent(placed.body.orderId)}`;
  const deadline = Date.now() + 60_000;
  for (let pollMs = 50; Date.now() < deadline; pollMs = Math.min(500, pollMs * 1.5)) {
    const { body } = await client.get<OrderView>(path, headers).catch(() => ({ body: undefined }));
    if (body?.status === 'CONFIRMED' || body?.status === 'CANCELLED') return body;
    await pause(pollMs);
  }
  throw new Error(`Order ${placed.body.orderId} was neither confirmed nor cancelled within 60 s`);
}

/** `concurrency` clients placing orders back to back for `durationMs`; the confirmed ones, stamped. */
async function driveOrders(client: ShopClient, catalog: Catalog, durationMs: number) {
  const tokens = paymentTokenMix(1_000, false);
  const confirmations: Confirmation[] = [];
  const outcomes = { confirmed: 0, cancelled: 0, failed: 0 };
  let next = 0;
  const endAt = Date.now() + durationMs;
  const progress = startProgress(`lakehouse: shop load, c=${concurrency}`, durationMs / 1000, ' s');
  const ticker = setInterval(() => progress.update((durationMs - (endAt - Date.now())) / 1000), 200);
  const runClient = async () => {
    while (Date.now() < endAt) {
      const token = tokens[next++ % tokens.length]!;
      const order = await placeAndFollow(client, catalog, token).catch(() => undefined);
      if (order === undefined) outcomes.failed += 1;
      else if (order.status === 'CANCELLED') outcomes.cancelled += 1;
      else {
        outcomes.confirmed += 1;
        const placedAtMs = Date.parse(order.placedAt ?? '');
        const committedAtMs = Date.parse(order.closedAt ?? '');
        if (Number.isFinite(placedAtMs) && Number.isFinite(committedAtMs))
          confirmations.push({ placedAtMs, committedAtMs });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, runClient));
  } finally {
    clearInterval(ticker);
    progress.stop();
  }
  if (confirmations.length < outcomes.confirmed)
    throw new Error('The shop confirmed orders without placedAt/closedAt stamps: freshness needs them');
  return { confirmations, outcomes };
}

/** Each confirmation's commit → counted in gold, in ms (Infinity when gold never counted it), sorted. */
function freshnessOf(confirmations: readonly Confirmation[], gold: GoldWatch, before: number): number[] {
  return [...confirmations]
    .sort((a, b) => a.committedAtMs - b.committedAtMs)
    .map((confirmation, index) => {
      const countedAtMs = gold.reached(before + index + 1);
      return countedAtMs === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(0, countedAtMs - confirmation.committedAtMs);
    })
    .sort((a, b) => a - b);
}

export async function measureFreshness(options: BenchOptions): Promise<Figure[]> {
  const durationMs = options.quick ? 15_000 : 60_000;
  note('lakehouse freshness: building the shop (npm run build), then starting it on embedded defaults');
  buildShop();
  const shop = await startEmbeddedShop();
  const client = new ShopClient(shop.api);
  const gold = watchGold(client);
  let loadBeganMs: number | undefined;
  try {
    const catalog = await prepareCatalog(client);
    // One order through to gold first: the models' first build is not what freshness measures.
    const warmup = await placeAndFollow(client, catalog, 'tok_visa');
    if (warmup.status !== 'CONFIRMED' || !(await waitForGold(gold, 1, 60_000)))
      throw new Error(`The warm-up order ended ${warmup.status} and gold counts ${gold.latest()} orders`);
    const before = gold.latest();
    note(
      `lakehouse freshness: ${durationMs / 1000} s of orders at c=${concurrency}, gold read every ${goldReadEveryMs} ms`,
    );
    loadBeganMs = Date.now();
    const { confirmations, outcomes } = await driveOrders(client, catalog, durationMs);
    const caughtUp = await waitForGold(gold, before + confirmations.length, drainTimeoutMs);
    note(
      `lakehouse freshness: ${outcomes.confirmed} confirmed, ${outcomes.cancelled} cancelled, ${outcomes.failed} failed; gold counts ${gold.latest() - before}${caughtUp ? '' : ` (not all after ${drainTimeoutMs / 1000} s)`}`,
    );
    const fresh = freshnessOf(confirmations, gold, before);
    const oltp = confirmations.map((order) => order.committedAtMs - order.placedAtMs).sort((a, b) => a - b);
    const unit = `ms, ${confirmations.length} orders at c=${concurrency}`;
    const baselineLabel = 'the same orders placed -> CONFIRMED (the OLTP side)';
    return [
      figure({
        name: 'lakehouse.freshness_p50',
        value: percentile(fresh, 0.5),
        unit,
        baseline: percentile(oltp, 0.5),
        baselineLabel,
      }),
      figure({
        name: 'lakehouse.freshness_p99',
        value: percentile(fresh, 0.99),
        unit,
        baseline: percentile(oltp, 0.99),
        baselineLabel,
        target: { on: 'value', atMost: 5_000 },
      }),
    ];
  } finally {
    await gold.stop();
    // The data outlives the shop for the run log's split (noteRunSplit), then goes unless kept.
    await shop.stop({ keepData: true });
    if (loadBeganMs !== undefined) await noteRunSplit(join(shop.dataDir, 'analytics.duckdb'), loadBeganMs);
    if (!process.env.KEEP_SHOP_DATA) rmSync(shop.dataDir, { recursive: true, force: true });
  }
}
