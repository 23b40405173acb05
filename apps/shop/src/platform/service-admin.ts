/**
 * The admin endpoints every service serves under /admin (the dashboard reads them through the
 * gateway): what the service runs on, its events, outbox backlog, sagas, its part of a flow, its
 * dead letters with redrive and discard, and what retention keeps and last removed. Outside dev mode
 * reads (and `/metrics`) need a token (`guardAdminReads`) and actions the admin token (`requireAdmin`).
 */
import {
  type Consumer,
  flowTimeline,
  type GlobalCursor,
  InvalidArgumentError,
  NotFoundError,
  type RetentionSchedule,
  type SagaStatus,
  type Store,
  sagaStatuses,
} from '@causeway/core';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { postgresDatabaseFor, type ShopConfig, sqliteFileFor } from '../config.ts';
import { guardAdminReads, requireAdmin } from './admin-guard.ts';
import {
  createEventCounter,
  deadLetterCounts,
  decodeCursor,
  encodeCursor,
  eventSummary,
} from './admin-queries.ts';
import type { DevPoison } from './dev-poison.ts';
import { parseInput } from './http-input.ts';
import { ConflictError } from './problem.ts';
import { cpuSinceStart } from './process-cpu.ts';

export interface ServiceAdminOptions {
  name: string;
  config: ShopConfig;
  store: Store;
  app: FastifyInstance;
  consumers: () => readonly Consumer[];
  devPoison: DevPoison;
  /** Null when retention is off (SHOP_RETENTION_INTERVAL_MS=0). */
  retention: RetentionSchedule | null;
  /** What this process has done since it started: of several processes of a service, each its part. */
  work?: () => Promise<ProcessWork>;
}

export interface ProcessWork {
  /** HTTP requests answered, the admin endpoints' aside. */
  requests: number;
  /** Outbox rows this process's relay published. */
  published: number;
}

const startedAt = new Date().toISOString();
const idParams = z.object({ id: z.string().min(1).max(200) });
const sequenceParams = z.object({ id: z.coerce.number().int().min(0) });
const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  data: z.enum(['0', '1']).optional(),
});
const sagasQuery = z.object({
  status: z.enum(sagaStatuses as [SagaStatus, ...SagaStatus[]]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export function registerServiceAdmin(options: ServiceAdminOptions): void {
  const { name, config, store, app } = options;
  const adminOnly = requireAdmin(config);
  guardAdminReads(
    app,
    config,
    (path) => path === '/metrics' || (path.startsWith('/admin/') && path !== '/admin/health'),
  );
  const countEvents = createEventCounter(store);

  const info = () => ({
    service: name,
    pid: process.pid,
    startedAt,
    cpu: cpuSinceStart(),
    dev: config.dev,
    database:
      store.capabilities.dialect === 'postgres'
        ? { kind: 'postgres', location: postgresDatabaseFor(config, name) }
        : { kind: 'sqlite', location: sqliteFileFor(config, name) },
    transport: config.transport,
    // The dev-mode poison consumer only where it can be used.
    consumers: options
      .consumers()
      .filter((consumer) => config.dev || consumer !== options.devPoison.consumer)
      .map((consumer) => consumer.name),
  });

  /** Where a reader without a cursor starts: the last `limit` positions, so it sees recent events. */
  async function cursorOf(query: z.infer<typeof eventsQuery>): Promise<GlobalCursor> {
    if (query.cursor) return decodeCursor(query.cursor);
    if (query.after !== undefined) return { position: query.after };
    return { position: Math.max(0, (await store.events.headPosition()) - query.limit) };
  }
  async function readEvents(query: z.infer<typeof eventsQuery>) {
    const batch = await store.events.readAll(await cursorOf(query), { limit: query.limit });
    return {
      items: batch.events.map((event) =>
        query.data === '1'
          ? {
              ...eventSummary(event),
              schemaVersion: event.schemaVersion,
              metadata: event.metadata,
              data: event.data,
            }
          : eventSummary(event),
      ),
      cursor: encodeCursor(batch.cursor),
      position: batch.cursor.position,
      ...(batch.heldBackReason ? { heldBackReason: batch.heldBackReason } : {}),
    };
  }

  app.get('/admin/info', async () => ({
    ...info(),
    ...(options.work ? { work: await options.work() } : {}),
  }));
  app.get('/admin/events', async (request) => readEvents(parseInput(eventsQuery, request.query, 'query')));
  app.get('/admin/events/stats', async (request) => {
    const { after } = parseInput(
      z.object({ after: z.coerce.number().int().min(0).default(0) }),
      request.query,
      'query',
    );
    const [{ head, count }, next] = await Promise.all([
      countEvents(),
      store.events.readAll({ position: after }, { limit: 1 }),
    ]);
    const first = next.events[0];
    return {
      head,
      count,
      firstAfter: first ? { globalPosition: first.globalPosition, occurredAt: first.occurredAt } : null,
    };
  });
  app.get('/admin/outbox', async () => store.outbox.backlog());
  // Counts scan the tables: kept apart from the overview, which the dashboard polls.
  app.get('/admin/retention', async () => {
    const [inboxReceipts, publishedOutbox] = await Promise.all([
      store.inbox.countReceipts(),
      store.outbox.countPublished(),
    ]);
    const { retention } = options;
    return {
      enabled: retention !== null,
      ...(retention ? { intervalMs: retention.intervalMs, policy: retention.policy } : {}),
      lastPass: retention?.lastPass() ?? null,
      kept: { inboxReceipts, publishedOutbox },
    };
  });
  app.get('/admin/overview', async (request) => {
    const query = parseInput(eventsQuery, request.query, 'query');
    const [events, outbox, deadLetters, sagas, counted] = await Promise.all([
      readEvents({ ...query, data: undefined }),
      store.outbox.backlog(),
      deadLetterCounts(store),
      store.sagas.countByStatus(),
      countEvents(),
    ]);
    return {
      ...info(),
      outbox,
      deadLetters,
      sagas,
      events: { ...events, head: counted.head, count: counted.count },
    };
  });

  app.get('/admin/sagas', async (request) => {
    const { status, limit } = parseInput(sagasQuery, request.query, 'query');
    const [counts, items] = await Promise.all([
      store.sagas.countByStatus(),
      store.sagas.list({ ...(status ? { status } : {}), limit }),
    ]);
    return { counts, items };
  });
  app.get('/admin/sagas/:id', async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    const saga = await store.sagas.get(null, id);
    if (!saga) throw new NotFoundError('Saga', id);
    return saga;
  });
  app.get('/admin/flows/:id', async (request) => {
    const { id } = parseInput(idParams, request.params, 'path');
    return { service: name, entries: await flowTimeline(id, [{ service: name, store }]) };
  });

  app.get('/admin/dead-letters', async () => ({ items: await store.deadLetters.list({ limit: 500 }) }));
  /** The consumer that owns a dead letter, or a 404 naming the entry. */
  async function ownerOf(sequence: number): Promise<Consumer> {
    const entry = await store.deadLetters.get(null, sequence);
    const consumer = entry ? options.consumers().find((each) => each.name === entry.consumer) : undefined;
    if (!entry || !consumer) throw new NotFoundError('Dead letter', String(sequence));
    return consumer;
  }
  app.post('/admin/dead-letters/:id/redrive', { preHandler: adminOnly }, async (request) => {
    const { id } = parseInput(sequenceParams, request.params, 'path');
    return asConflict(() => ownerOf(id).then((consumer) => consumer.redrive(id)));
  });
  app.delete('/admin/dead-letters/:id', { preHandler: adminOnly }, async (request) => {
    const { id } = parseInput(sequenceParams, request.params, 'path');
    const entry = await store.deadLetters.get(null, id);
    if (entry && entry.status !== 'dead' && entry.status !== 'parked') {
      throw new ConflictError(
        `Dead letter ${id} is ${entry.status}: only a dead or parked entry can be discarded`,
      );
    }
    await (await ownerOf(id)).discard(id);
    return { id, status: 'discarded' };
  });

  app.post('/admin/dev/poison', { preHandler: adminOnly }, async (request, reply) => {
    if (!config.dev) throw new NotFoundError('Dev-mode endpoint', 'POST /admin/dev/poison');
    const { refuseAttempts } = parseInput(
      z.object({ refuseAttempts: z.number().int().min(1).max(1_000_000_000).default(1) }),
      request.body ?? {},
    );
    return reply.status(202).send(await options.devPoison.send({ refuseAttempts }));
  });
}

/** "Not dead or parked any more" is a state conflict (409), not a server error. */
async function asConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new ConflictError(error.message);
    throw error;
  }
}
