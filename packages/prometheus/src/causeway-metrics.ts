/**
 * A Causeway service's metrics in the caller's prom-client registry. What lives in the store (outbox
 * backlog, dead letters, sagas) and what a relay or a projection runner knows (published messages,
 * lag) and what the broker holds for this service's consumer groups is read when Prometheus scrapes,
 * so a scrape costs a few indexed counts (and a request or a few to the broker) and nothing runs
 * between scrapes. Handling time is measured by the transport wrapper in timed-deliveries.ts.
 */
import type { OutboxRelay, ProjectionRunner, Store, Transport } from '@causeway/core';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface CausewayMetricsOptions {
  /** Where the metrics are registered; add `collectDefaultMetrics({ register })` for the process's own. */
  registry: Registry;
  store: Store;
  /** Its published count becomes `causeway_outbox_published_total`. */
  relay?: OutboxRelay;
  /**
   * Its `consumerLag()` becomes `causeway_consumer_lag_messages{consumer, destination}`: the groups it
   * subscribed to. Nothing is reported for a transport without `consumerLag`.
   */
  transport?: Transport;
  /**
   * How long after its timer came due a live saga counts in `causeway_sagas_overdue` (default 30 s;
   * an orchestrator fires a due timer within its poll interval).
   */
  overdueAfterMs?: number;
  /** These projections' lag becomes `causeway_projection_lag_*`. */
  projections?: { runner: ProjectionRunner; names: readonly string[] };
}

export interface CausewayMetrics {
  /** Adds these projections of a runner to `causeway_projection_lag_*` (as the `projections` option). */
  reportProjections(runner: ProjectionRunner, names: readonly string[]): void;
}

/** Dead-letter statuses that still wait for someone: reported even at 0, so an alert can test them. */
const waitingStatuses = ['dead', 'parked'] as const;

export function registerCausewayMetrics(options: CausewayMetricsOptions): CausewayMetrics {
  const { registry, store, relay, projections } = options;
  const registers = [registry];

  // Two gauges each come from one read: a scrape collects them at once, so they share it.
  const backlog = oncePerScrape(() => store.outbox.backlog());
  const scrapeErrors = new Counter({
    name: 'causeway_metrics_scrape_errors_total',
    help: 'Metrics that could not be read at a scrape (the store out of reach, say), by metric; they are left out of that scrape.',
    labelNames: ['metric'],
    registers,
  });
  /**
   * A metric that cannot be read fails that metric, not the whole scrape (the process's own stay):
   * a labelled gauge loses its series, an unlabelled one reads NaN (unknown: no alert compares true
   * on it), and a counter keeps its count.
   */
  async function safely(metric: Gauge<string> | Counter, read: () => Promise<void>) {
    try {
      await read();
    } catch {
      const { name, labelNames } = metric as unknown as { name: string; labelNames: string[] };
      if (metric instanceof Gauge) {
        metric.reset();
        if (labelNames.length === 0) metric.set(Number.NaN);
      }
      scrapeErrors.inc({ metric: name });
    }
  }

  new Gauge({
    name: 'causeway_outbox_backlog_messages',
    help: 'Outbox messages committed and not yet published.',
    registers,
    async collect() {
      await safely(this, async () => {
        this.set((await backlog()).count);
      });
    },
  });
  new Gauge({
    name: 'causeway_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox message not yet published (0 when none waits).',
    registers,
    async collect() {
      await safely(this, async () => {
        this.set((await backlog()).oldestAgeMs / 1000);
      });
    },
  });
  new Gauge({
    name: 'causeway_dead_letters',
    help: 'Dead letters by status: dead (failed for good), parked (behind a dead one of its key), and those settled.',
    labelNames: ['status'],
    registers,
    async collect() {
      await safely(this, async () => {
        this.reset();
        for (const status of waitingStatuses) this.set({ status }, 0);
        for (const [status, count] of Object.entries(await deadLettersByStatus(store)))
          this.set({ status }, count);
      });
    },
  });
  new Gauge({
    name: 'causeway_sagas',
    help: 'Saga instances by status.',
    labelNames: ['status'],
    registers,
    async collect() {
      await safely(this, async () => {
        for (const [status, count] of Object.entries(await store.sagas.countByStatus()))
          this.set({ status }, count);
      });
    },
  });

  const overdueAfterMs = options.overdueAfterMs ?? 30_000;
  new Gauge({
    name: 'causeway_sagas_overdue',
    help: 'Live sagas whose durable timer (a step deadline, a retry) came due and has not been acted on (counted up to 1000).',
    registers,
    async collect() {
      await safely(this, async () => {
        this.set((await store.sagas.due(new Date(Date.now() - overdueAfterMs), 1000)).length);
      });
    },
  });

  if (store.capabilities.dialect === 'postgres') {
    new Gauge({
      name: 'causeway_cdc_slot_lag_bytes',
      help: "WAL a logical replication slot of this database holds back: written, not yet confirmed by the slot's reader.",
      labelNames: ['slot', 'active'],
      registers,
      async collect() {
        await safely(this, async () => {
          const rows = await store.transaction((tx) =>
            tx.query<{ slot: string; active: boolean; lag: string | number | null }>(
              `SELECT slot_name AS slot, active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS lag
                 FROM pg_replication_slots WHERE database = current_database() AND slot_type = 'logical'`,
            ),
          );
          this.reset();
          for (const row of rows)
            this.set({ slot: row.slot, active: String(row.active) }, Number(row.lag ?? 0));
        });
      },
    });
  }

  const consumerLag = options.transport?.consumerLag?.bind(options.transport);
  if (consumerLag) {
    new Gauge({
      name: 'causeway_consumer_lag_messages',
      help: 'Messages the broker holds for a consumer group of this process on a destination that the group has not acked yet (RabbitMQ: those ready in its queues).',
      // `consumer`, as in causeway_message_handling_seconds: the consumer group, so the two join.
      labelNames: ['consumer', 'destination'],
      registers,
      async collect() {
        await safely(this, async () => {
          const lags = await consumerLag();
          this.reset();
          for (const { group, destination, pending } of lags)
            this.set({ consumer: group, destination }, pending);
        });
      },
    });
  }

  if (relay) {
    let counted = 0;
    new Counter({
      name: 'causeway_outbox_published_total',
      help: 'Outbox messages this process published to the transport.',
      registers,
      async collect() {
        await safely(this, async () => {
          const { published } = await relay.status();
          this.inc(Math.max(0, published - counted));
          counted = Math.max(counted, published);
        });
      },
    });
  }

  const reported: Array<{ runner: ProjectionRunner; names: readonly string[] }> = [];
  const statuses = oncePerScrape(() =>
    Promise.all(reported.flatMap(({ runner, names }) => names.map((name) => runner.status(name)))),
  );
  const lags = [
    [
      'causeway_projection_lag_positions',
      "Events of the service's own log a projection has not applied yet.",
      'positionsBehind',
    ],
    [
      'causeway_projection_lag_seconds',
      'Age of the oldest event a projection has not applied yet (0 when caught up).',
      'secondsBehind',
    ],
  ] as const;
  for (const [name, help, field] of lags) {
    new Gauge({
      name,
      help,
      labelNames: ['projection'],
      registers,
      async collect() {
        await safely(this, async () => {
          for (const status of await statuses()) this.set({ projection: status.name }, status[field]);
        });
      },
    });
  }
  if (projections) reported.push(projections);

  return {
    reportProjections(runner, names) {
      reported.push({ runner, names });
    },
  };
}

/**
 * `read` shared by the callers that start while it runs: a scrape collects every metric at once,
 * so the metrics drawn from one read cost one read.
 */
function oncePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= read().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** Dead letters per status, from the store's own table (the same on every backend). */
async function deadLettersByStatus(store: Store): Promise<Record<string, number>> {
  const rows = await store.transaction((tx) =>
    tx.query<{ status: string; n: number | string }>(
      'SELECT status, count(*) AS n FROM dead_letters GROUP BY status',
    ),
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}
