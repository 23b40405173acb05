/**
 * The analytics kill test's parts: a killer that SIGKILLs the analytics service while it is
 * ingesting and waits for the supervisor to bring it back, a steady stream of orders of every
 * payment outcome, the services' own logs by event id, and bronze read from the DuckDB file once
 * the shop has stopped.
 */
import { join } from 'node:path';
import { openLakehouse } from '@causeway/lakehouse';
import { portOf, type ShopConfig } from '../config.ts';
import type { ShopClient } from '../load/shop-client.ts';
import { readStatusFile, statusFileName } from '../supervisor/status-file.ts';
import { pause, until } from './running-shop.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field by the assertions
type Json = any;

/** A service's own port, from the gateway's API address. */
export function serviceUrl(gatewayApi: string, service: string): string {
  const port = portOf({ port: Number(new URL(gatewayApi).port) } as ShopConfig, service);
  return `http://127.0.0.1:${port}`;
}

/** A GET's JSON body, or null when the service gives no 200 (it is down, or still starting). */
async function readJson(url: string): Promise<Json | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

export interface AnalyticsKill {
  pid: number;
  /** What freshness said when the kill was decided: this incarnation had ingested a batch. */
  bronzeUpdatedAt: string;
  /** The incarnation the supervisor started next. */
  nextPid: number;
}

/**
 * Kills the analytics service `kills` times. Each time it waits for a new incarnation whose
 * freshness shows bronze taking changes (a batch committed by this process), then kills it within
 * 0–400 ms, while the next batches are on their way, and waits until the supervisor restarted it.
 */
export async function killAnalyticsWhileIngesting(
  gatewayApi: string,
  kills: number,
): Promise<AnalyticsKill[]> {
  const analytics = serviceUrl(gatewayApi, 'analytics');
  const done: AnalyticsKill[] = [];
  let pid = await incarnationAfter(analytics, null);
  while (done.length < kills) {
    const fresh = await until(
      () => readJson(`${analytics}/analytics/freshness`),
      (report) => typeof report?.layers?.bronze?.updatedAt === 'string',
      { timeoutMs: 60_000, everyMs: 50 },
    );
    const bronzeUpdatedAt: string | undefined = fresh?.layers?.bronze?.updatedAt;
    if (!bronzeUpdatedAt) throw new Error(`analytics pid ${pid} ingested nothing within 60 s`);
    await pause(Math.random() * 400);
    const health = await readJson(`${analytics}/admin/health`);
    if (health?.pid !== pid) throw new Error(`analytics pid ${pid} went away before its kill`);
    process.kill(pid, 'SIGKILL');
    const nextPid = await incarnationAfter(analytics, pid);
    done.push({ pid, bronzeUpdatedAt, nextPid });
    pid = nextPid;
  }
  return done;
}

/** The pid of the analytics process answering health, once it is not `previous`. */
async function incarnationAfter(analytics: string, previous: number | null): Promise<number> {
  const health = await until(
    () => readJson(`${analytics}/admin/health`),
    (answer) => typeof answer?.pid === 'number' && answer.pid !== previous,
    { timeoutMs: 120_000, everyMs: 100 },
  );
  if (typeof health?.pid !== 'number' || health.pid === previous)
    throw new Error(`the supervisor did not restart analytics (pid ${previous}) within 120 s`);
  return health.pid;
}

export interface OrderLoad {
  /** Stops placing orders; resolves to the ids of the orders placed. */
  stop(): Promise<string[]>;
}

/** The payment outcomes placed in turn: approved, declined, approved after retries, refused by shipping. */
const outcomes: ReadonlyArray<{ token: string; country?: string }> = [
  { token: 'tok_visa', country: 'DE' },
  { token: 'tok_declined', country: 'FR' },
  { token: 'tok_visa' },
  { token: 'tok_flaky', country: 'FR' },
  { token: 'tok_visa', country: 'XX' }, // charged, then refunded when shipping refuses the country
  { token: 'tok_visa', country: 'DE' },
];

/**
 * Places orders from `concurrency` shoppers until stopped, in turn over the outcomes and
 * products; each shopper waits (up to 3 s) for an order's outcome before its next one.
 */
export function startOrderLoad(
  client: ShopClient,
  fixtures: { userId: string; productIds: readonly string[]; concurrency: number },
): OrderLoad {
  let placing = true;
  let next = 0;
  const placed: string[] = [];
  const shopper = async () => {
    while (placing) {
      const index = next++;
      const { token, country } = outcomes[index % outcomes.length]!;
      const answer = await client.post<Json>(
        '/orders',
        {
          userId: fixtures.userId,
          items: [
            { productId: fixtures.productIds[index % fixtures.productIds.length], quantity: 1 + (index % 3) },
          ],
          payment: { token },
          ...(country ? { shippingAddress: { country } } : {}),
        },
        `analytics-kill-order-${index}`,
      );
      placed.push(answer.body.orderId);
      await until(
        () => client.get<Json>(`/orders/${answer.body.orderId}`).catch(() => null),
        (order) => order?.body.status !== undefined && order.body.status !== 'PENDING',
        { timeoutMs: 3_000, everyMs: 200 },
      );
    }
  };
  const shoppers = Array.from({ length: fixtures.concurrency }, shopper);
  return {
    async stop() {
      placing = false;
      await Promise.all(shoppers);
      return placed;
    },
  };
}

/**
 * Every event of a service's log, read page by page from its `/admin/events`. A page held back at
 * a gap (on PostgreSQL, a position whose transaction may still commit) is read on from its cursor
 * until the gap is proven, so the log is whole, not cut at the first rolled-back position.
 */
export async function serviceLog(
  gatewayApi: string,
  service: string,
  options: { data?: boolean } = {},
): Promise<Json[]> {
  const url = serviceUrl(gatewayApi, service);
  const events: Json[] = [];
  const deadline = Date.now() + 60_000;
  let query = 'after=0';
  for (;;) {
    const response = await fetch(`${url}/admin/events?${query}&limit=1000${options.data ? '&data=1' : ''}`);
    const page = (await response.json()) as { items: Json[]; cursor: string; heldBackReason?: string };
    events.push(...page.items);
    query = `cursor=${encodeURIComponent(page.cursor)}`;
    if (page.heldBackReason && Date.now() > deadline)
      throw new Error(`the log of ${service} is held back for 60 s: ${page.heldBackReason}`);
    if (page.heldBackReason) await pause(200);
    else if (page.items.length < 1000) return events;
  }
}

/**
 * Stops the shop's supervisor with SIGINT (it stops its children first) without removing the
 * data directory, so that the analytics file can be opened; RunningShop.stop() still removes it.
 */
export async function stopSupervisor(dataDir: string): Promise<void> {
  const status = readStatusFile(join(dataDir, statusFileName));
  if (!status) throw new Error(`no ${statusFileName} in ${dataDir}: is the shop running?`);
  const pids = [status.supervisorPid, ...Object.values(status.services).map((service) => service.pid)];
  process.kill(status.supervisorPid, 'SIGINT');
  const alive = (pid: number | null) => {
    if (pid === null) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const left = await until(
    async () => pids.filter(alive),
    (running) => running.length === 0,
    { timeoutMs: 60_000, everyMs: 200 },
  );
  if (left.length > 0) throw new Error(`the shop's processes ${left.join(', ')} did not stop within 60 s`);
}

export interface BronzeCensus {
  generation: number;
  /** How the generation is fed: `wal` or `event-log`. */
  ingest: string;
  changes: number;
  /** Change ids bronze holds more than once, with how often. */
  repeatedChanges: Array<{ changeId: string; copies: number }>;
  /** How often bronze holds each event, by service and event id (table `events`, creates and copies). */
  eventCopies: Map<string, Map<string, number>>;
}

/** Reads the live generation's bronze from the analytics file (the shop must have stopped). */
export async function readBronze(dataDir: string): Promise<BronzeCensus> {
  const lakehouse = await openLakehouse({ path: join(dataDir, 'analytics.duckdb') });
  try {
    const [live] = await lakehouse.all<{ generation: number; ingest: string }>(
      `SELECT generation, ingest FROM meta.generations WHERE state = 'live'`,
    );
    if (!live) throw new Error('meta.generations has no live generation');
    const changes = `g${live.generation}_bronze.changes`;
    const [counted] = await lakehouse.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${changes}`);
    const repeated = await lakehouse.all<{ change_id: string; copies: number }>(
      `SELECT change_id, count(*)::INTEGER AS copies FROM ${changes} GROUP BY change_id HAVING count(*) > 1`,
    );
    const events = await lakehouse.all<{ source: string; event_id: string; copies: number }>(
      `SELECT source, after->>'event_id' AS event_id, count(*)::INTEGER AS copies FROM ${changes}
        WHERE table_name = 'events' AND op IN ('c', 'r') GROUP BY ALL`,
    );
    const eventCopies = new Map<string, Map<string, number>>();
    for (const row of events) {
      const ofSource = eventCopies.get(row.source) ?? new Map<string, number>();
      ofSource.set(row.event_id, row.copies);
      eventCopies.set(row.source, ofSource);
    }
    return {
      generation: live.generation,
      ingest: live.ingest,
      changes: counted?.n ?? 0,
      repeatedChanges: repeated.map((row) => ({ changeId: row.change_id, copies: row.copies })),
      eventCopies,
    };
  } finally {
    await lakehouse.close();
  }
}

/**
 * Waits until bronze has taken nothing new for `quietMs` (the analytics service's freshness shows
 * the same bronze time across that span): with the load stopped, it holds all there is.
 */
export async function waitForQuietBronze(gatewayApi: string, quietMs: number): Promise<void> {
  const freshness = `${serviceUrl(gatewayApi, 'analytics')}/analytics/freshness`;
  let last: { updatedAt: string | null; since: number } = { updatedAt: null, since: Date.now() };
  await until(
    async () => {
      const updatedAt: string | null = (await readJson(freshness))?.layers?.bronze?.updatedAt ?? null;
      if (updatedAt !== last.updatedAt) last = { updatedAt, since: Date.now() };
      return last;
    },
    (seen) => Date.now() - seen.since >= quietMs,
    { timeoutMs: 60_000, everyMs: 250 },
  );
}
