/**
 * What the dashboard shows live: while at least one browser listens, every `pollMs` the gateway
 * reads each service's `/admin/overview` (and the sagas, dead letters and projections where they
 * changed or live) and pushes to the listeners only the topics that changed, plus the events that
 * are new since the last poll. With nobody listening it polls nothing.
 */
import { type SagaInstance, type SagaStatus, sagaStepLabel } from '@causeway/core';
import { serviceNames } from '../config.ts';
import type { DeadLetterCounts, EventSummary } from '../platform/admin-queries.ts';
import { log } from '../platform/log.ts';
import type { ServiceClient } from '../platform/service-client.ts';
import { readSupervised } from './service-health.ts';

export type FeedTopic = 'services' | 'sagas' | 'projections' | 'deadLetters';
export interface Listener {
  send(topic: FeedTopic | 'events', data: unknown): void;
  /** Called when the feed closes (the gateway stops): end the connection. */
  end(): void;
}

interface Overview {
  pid: number;
  startedAt: string;
  database: { kind: string; location: string };
  transport: string;
  consumers: string[];
  outbox: { count: number; oldestAgeMs: number };
  deadLetters: DeadLetterCounts;
  sagas: Record<SagaStatus, number>;
  events: { items: EventSummary[]; cursor: string; head: number; count: number; heldBackReason?: string };
}

export interface StreamEvent extends EventSummary {
  service: string;
}

const eventsKept = 500;
const firstLook = 40;

export function createDashboardFeed(options: { call: ServiceClient; dataDir: string; pollMs?: number }) {
  const { call } = options;
  const pollMs = options.pollMs ?? 500;
  const listeners = new Set<Listener>();
  const topics = new Map<FeedTopic, { json: string; data: unknown }>();
  const cursors = new Map<string, string>();
  const deadLetterMarks = new Map<string, string>();
  const deadLetterLists = new Map<string, unknown[]>();
  let recentEvents: StreamEvent[] = [];
  let polling = false;
  let lastTickAt = 0;

  function publish(topic: FeedTopic, data: unknown) {
    const json = JSON.stringify(data);
    if (topics.get(topic)?.json === json) return;
    topics.set(topic, { json, data });
    for (const listener of listeners) listener.send(topic, data);
  }

  async function overviewOf(service: string): Promise<Overview | null> {
    const cursor = cursors.get(service);
    const query = cursor ? `cursor=${encodeURIComponent(cursor)}&limit=200` : `limit=${firstLook}`;
    const answer = await call(service, 'GET', `/admin/overview?${query}`, { timeoutMs: 1_500 }).catch(
      () => null,
    );
    if (answer?.status !== 200) return null;
    const overview = answer.body as Overview;
    cursors.set(service, overview.events.cursor);
    return overview;
  }

  async function tick() {
    const [supervised, overviews] = await Promise.all([
      readSupervised(options.dataDir),
      Promise.all(serviceNames.map(async (service) => [service, await overviewOf(service)] as const)),
    ]);
    const fresh: StreamEvent[] = [];
    const services = overviews.map(([name, overview]) => {
      for (const event of overview?.events.items ?? []) fresh.push({ ...event, service: name });
      const entry = supervised[name];
      return {
        name,
        status: overview ? 'up' : entry?.status === 'starting' ? 'starting' : 'down',
        pid: overview?.pid ?? entry?.pid ?? null,
        restarts: entry?.restarts ?? 0,
        supervisor: entry ? { status: entry.status ?? null, since: entry.since ?? null } : null,
        ...(overview
          ? {
              startedAt: overview.startedAt,
              database: overview.database,
              transport: overview.transport,
              consumers: overview.consumers,
              outbox: overview.outbox,
              deadLetters: overview.deadLetters,
              sagas: overview.sagas,
              events: { head: overview.events.head, count: overview.events.count },
              heldBackReason: overview.events.heldBackReason ?? null,
            }
          : {}),
      };
    });
    publish('services', services);
    if (fresh.length > 0) {
      fresh.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
      recentEvents = [...recentEvents, ...fresh].slice(-eventsKept);
      for (const listener of listeners) listener.send('events', { items: fresh });
    }
    await Promise.all([publishSagas(overviews), publishDeadLetters(overviews), publishProjections()]);
    lastTickAt = Date.now();
  }

  async function publishSagas(overviews: ReadonlyArray<readonly [string, Overview | null]>) {
    const owners = overviews.filter(([, overview]) => overview && total(overview.sagas) > 0);
    const counts = Object.fromEntries(
      (['running', 'compensating', 'completed', 'compensated', 'dead'] as const).map((status) => [
        status,
        owners.reduce((sum, [, overview]) => sum + (overview?.sagas[status] ?? 0), 0),
      ]),
    );
    const lists = await Promise.all(
      owners.map(async ([service]) => {
        const answer = await call(service, 'GET', '/causeway/api/sagas?limit=40', {
          timeoutMs: 1_500,
        }).catch(() => null);
        const items = answer?.status === 200 ? (answer.body as { items: SagaInstance[] }).items : [];
        return items.map((saga) => sagaSummary(service, saga));
      }),
    );
    const items = lists
      .flat()
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, 40);
    publish('sagas', { counts, items });
  }

  async function publishDeadLetters(overviews: ReadonlyArray<readonly [string, Overview | null]>) {
    await Promise.all(
      overviews.map(async ([service, overview]) => {
        if (!overview) return;
        const counts = overview.deadLetters;
        const mark = [counts.lastSequence, counts.attempts, counts.dead, counts.parked, counts.redriven].join(
          ':',
        );
        if (deadLetterMarks.get(service) === mark) return;
        const answer = await call(service, 'GET', '/causeway/api/dead-letters', { timeoutMs: 1_500 }).catch(
          () => null,
        );
        if (answer?.status !== 200) return;
        deadLetterMarks.set(service, mark);
        const items = (answer.body as { items: Array<Record<string, unknown>> }).items;
        deadLetterLists.set(
          service,
          items.map((entry) => ({ id: `${service}:${entry.sequence}`, service, ...entry })),
        );
      }),
    );
    const items = [...deadLetterLists.values()]
      .flat()
      .sort((a, b) =>
        String((b as { lastSeenAt: string }).lastSeenAt).localeCompare(
          (a as { lastSeenAt: string }).lastSeenAt,
        ),
      )
      .slice(0, 200);
    publish('deadLetters', { items });
  }

  async function publishProjections() {
    const answer = await call('query', 'GET', '/admin/projections', { timeoutMs: 1_500 }).catch(() => null);
    publish(
      'projections',
      answer?.status === 200 ? answer.body : { unavailable: 'the query service did not answer' },
    );
  }

  async function pollWhileListened() {
    if (polling) return;
    polling = true;
    try {
      while (listeners.size > 0) {
        const started = Date.now();
        await tick().catch((error) => log.warn(`dashboard poll failed: ${String(error)}`));
        await new Promise((resolve) => setTimeout(resolve, Math.max(50, pollMs - (Date.now() - started))));
      }
    } finally {
      polling = false;
    }
  }

  return {
    pollMs,
    /** Sends the current topics and recent events at once, then every change until unsubscribed. */
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      for (const [topic, { data }] of topics) listener.send(topic, data);
      listener.send('events', { items: recentEvents, reset: true });
      void pollWhileListened();
      return () => listeners.delete(listener);
    },
    /** Every topic, fresh (polls once if nobody keeps the feed polling). */
    async snapshot() {
      if (Date.now() - lastTickAt > pollMs * 2) await tick();
      return {
        ...Object.fromEntries([...topics].map(([topic, { data }]) => [topic, data])),
        events: recentEvents,
      };
    },
    /** Ends every listener (their connections), e.g. when the gateway stops. */
    close() {
      for (const listener of listeners) listener.end();
      listeners.clear();
    },
  };
}

export type DashboardFeed = ReturnType<typeof createDashboardFeed>;

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

function sagaSummary(service: string, saga: SagaInstance) {
  return {
    sagaId: saga.sagaId,
    sagaName: saga.sagaName,
    service,
    status: saga.status,
    step: sagaStepLabel(saga),
    reason: saga.reason,
    correlationId: saga.correlationId,
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
  };
}
