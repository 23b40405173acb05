/**
 * Test sources for the analytics pipeline: in-memory service logs read through the same
 * page-by-page ingestion the event-log source uses, and a small shop's history.
 */
import type { AnalyticsPipeline } from '../analytics-pipeline.ts';
import { bronzeChangeOfEvent, type PullSource } from '../event-log-source.ts';
import type { IngestionStarter } from '../ingestion.ts';
import { createPullIngestion } from '../pull-ingestion.ts';
import { createShopLog, type LoggedEvent } from './shop-events.ts';

/** Each service's log, served a page at a time in global order, as `/admin/events` serves it. */
function logSource(service: string, events: readonly LoggedEvent[]): PullSource {
  return {
    name: service,
    async pull(from, limit) {
      const after = from?.position ?? 0n;
      const mine = events.filter((event) => event.service === service).map((event) => event.message);
      const page = mine.filter((message) => BigInt(message.globalPosition) > after).slice(0, limit);
      const position = page.length > 0 ? BigInt(page.at(-1)!.globalPosition) : after;
      return {
        changes: page.map((message) => bronzeChangeOfEvent(service, message)),
        position,
        cursor: String(position),
        caughtUp: page.length < limit,
      };
    },
  };
}

export function logIngestion(events: readonly LoggedEvent[]): IngestionStarter {
  return { start: (pipeline) => startLogIngestion(pipeline, events), discard: async () => {} };
}

async function startLogIngestion(pipeline: AnalyticsPipeline, events: readonly LoggedEvent[]) {
  const ingestion = createPullIngestion({
    bronze: pipeline.bronze,
    sources: ['users', 'catalog', 'orders', 'payments'].map((service) => logSource(service, events)),
    pollMs: 20,
    pageSize: 3, // many pages: the live generation models as the changes trickle in
    ...pipeline.ingestion,
    onError: (source, error) => {
      throw new Error(`${source}: ${String(error)}`);
    },
  });
  ingestion.start();
  return { stop: () => ingestion.stop(), retire: () => ingestion.stop() };
}

/** One product repriced mid-way, one user, twelve orders over three days: confirmed, and some refunded by a refused shipment. */
export function aShop() {
  const log = createShopLog();
  log.product('mug', 'Mug', 1000, '2026-11-30T08:00:00.000Z');
  log.user('u1', '2026-11-30T08:30:00.000Z');
  for (let n = 1; n <= 12; n++) {
    const at = `2026-12-0${1 + (n % 3)}T10:00:${String(n).padStart(2, '0')}.000Z`;
    if (n === 6) log.reprice('mug', 1250, at);
    const total = log.order({
      id: `o${n}`,
      userId: 'u1',
      lines: [['mug', n, n < 6 ? 1000 : 1250]],
      at,
      country: n % 2 ? 'DE' : 'FR',
    });
    log.charge(`o${n}`, total, at);
    if (n % 4 === 0) {
      log.refund(`o${n}`, total, at);
      log.cancel(`o${n}`, 'shipment refused', at);
    } else log.confirm(`o${n}`, at);
  }
  return log;
}

/** The revenue of aShop()'s confirmed orders (every fourth order is refunded, the rest confirmed). */
export const aShopConfirmedRevenue = [1, 2, 3, 5, 6, 7, 9, 10, 11].reduce(
  (sum, n) => sum + n * (n < 6 ? 1000 : 1250),
  0,
);

/** Waits until the live pipeline modelled every change its sources hold (gold's revenue as expected). */
export async function untilSettled(live: () => AnalyticsPipeline, expectedRevenue: number): Promise<void> {
  for (let tries = 0; tries < 400; tries++) {
    const pipeline = live();
    const { layers } = await pipeline.freshness();
    if ((await pipeline.isBuilt('sales_by_day')) && layers.gold.lagMs === 0) {
      const [row] = await pipeline.lakehouse.all<{ revenue: number }>(
        `SELECT sum(revenue_cents) AS revenue FROM ${pipeline.gold('sales_by_day')}`,
      );
      if (row?.revenue === expectedRevenue) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the live generation never settled');
}
