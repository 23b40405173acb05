/**
 * The operator's view of one Causeway service, mountable in any Node HTTP server: a JSON API and
 * a dashboard page (sagas with their steps and compensations, dead letters with redrive and
 * discard, a flow by correlation id, recent events, the outbox, projections with pause, resume
 * and rebuild; in the API also its caches' hits and misses). It reads the service's store and
 * acts through the service's own consumers, orchestrator and projection runner, so a redrive runs
 * the real handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Consumer,
  type DeadLetterStatus,
  flowTimeline,
  type ProjectionRunner,
  type SagaOrchestrator,
  type SagaStatus,
  type Store,
  sagaStepLabel,
} from '@causeway/core';
import { type Access, accessRefusal } from './admin-access.ts';
import { cacheViews, type ReportedCache } from './cache-stats.ts';
import { serveDashboardFile } from './dashboard-files.ts';
import { type Problem, problemOf, sendJson, sendProblem } from './http-answers.ts';
import { sagaDiagram } from './saga-diagram.ts';
import { isTraceId, type TraceSource, traceView } from './trace-view.ts';

export interface AdminOptions {
  /** The service's name, shown on the page. */
  service: string;
  store: Store;
  /** Its consumers: a dead letter is redriven or discarded by the consumer that owns it. */
  consumers?: readonly Consumer[];
  /** Its saga orchestrator, if it runs sagas: a dead saga's redrive goes through it. */
  sagas?: SagaOrchestrator;
  /**
   * What each saga step's compensation is called on the diagram, by step name (e.g.
   * `{ reserveInventory: 'releaseInventory' }`); unnamed ones are `compensate <step>`.
   */
  compensationNames?: Readonly<Record<string, string>>;
  /** Its projection runner and the projections to show. */
  projections?: { runner: ProjectionRunner; names: readonly string[] };
  /**
   * The spans its process kept of recent traces (`startTracing(...)` of `@causeway/opentelemetry`
   * fits), for `GET <basePath>/api/traces/<traceId>` and the flow view's waterfall.
   */
  traces?: TraceSource;
  /**
   * Its caches by name: a read-through reader or a write-back (anything with their `stats`), whose
   * counters `GET <basePath>/api/caches` shows as they stand at the request.
   */
  caches?: Readonly<Record<string, ReportedCache>>;
  /** Where it is mounted (default `/causeway`): the page at `<basePath>/`, the API under `<basePath>/api/`. */
  basePath?: string;
  /**
   * Who may look and act: `{ readToken, adminToken }` (Bearer tokens; reads take either, actions
   * the admin token), or `'open'` for anyone who reaches the port (listen on loopback then).
   */
  access: Access;
}

/** Answers a request under `basePath` and resolves true; anything else resolves false, untouched. */
export type AdminHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

const sagaStatuses: readonly SagaStatus[] = ['running', 'compensating', 'completed', 'compensated', 'dead'];
const deadLetterStatuses: readonly DeadLetterStatus[] = ['dead', 'parked', 'redriven', 'discarded'];

class NotFound extends Error {}
class BadInput extends Error {}
class Conflict extends Error {}

export function createAdminHandler(options: AdminOptions): AdminHandler {
  const base = (options.basePath ?? '/causeway').replace(/\/$/, '');
  const { store } = options;

  function ownerOf(sequence: number, consumer: string): Consumer {
    const owner = options.consumers?.find((each) => each.name === consumer);
    if (!owner) throw new NotFound(`No consumer ${consumer} in this service owns dead letter ${sequence}`);
    return owner;
  }

  async function deadLetter(sequence: number) {
    const entry = await store.deadLetters.get(null, sequence);
    if (!entry) throw new NotFound(`No dead letter ${sequence}`);
    return entry;
  }

  const reads: Record<string, (parts: string[], query: URLSearchParams) => Promise<unknown>> = {
    async overview() {
      const [outbox, sagas, census, dead] = await Promise.all([
        store.outbox.backlog(),
        store.sagas.countByStatus(),
        store.events.census(),
        store.deadLetters.list({ status: 'dead', limit: 500 }),
      ]);
      return {
        service: options.service,
        outbox,
        sagas,
        events: census,
        deadLetters: { dead: dead.length },
        projections: options.projections?.names ?? [],
        actions: { sagas: options.sagas !== undefined, deadLetters: (options.consumers ?? []).length > 0 },
      };
    },
    async sagas(parts, query) {
      if (parts.length === 1) {
        const sagaId = decodeURIComponent(parts[0]!);
        const saga = await store.sagas.get(null, sagaId);
        if (!saga) throw new NotFound(`No saga ${sagaId}`);
        return {
          ...saga,
          step: sagaStepLabel(saga),
          diagram: sagaDiagram(saga, options.compensationNames ?? {}),
        };
      }
      const status = query.get('status');
      if (status !== null && !sagaStatuses.includes(status as SagaStatus)) {
        throw new BadInput(`status must be one of ${sagaStatuses.join(', ')}`);
      }
      const limit = Math.min(500, Math.max(1, Number(query.get('limit') ?? 100) || 100));
      const [items, counts] = await Promise.all([
        store.sagas.list({ limit, ...(status ? { status: status as SagaStatus } : {}) }),
        store.sagas.countByStatus(),
      ]);
      return { counts, items: items.map((saga) => ({ ...saga, step: sagaStepLabel(saga) })) };
    },
    async 'dead-letters'(_parts, query) {
      const status = query.get('status');
      if (status !== null && !deadLetterStatuses.includes(status as DeadLetterStatus)) {
        throw new BadInput(`status must be one of ${deadLetterStatuses.join(', ')}`);
      }
      return {
        items: await store.deadLetters.list({
          limit: 200,
          ...(status ? { status: status as DeadLetterStatus } : {}),
        }),
      };
    },
    async events(_parts, query) {
      const limit = Math.min(200, Math.max(1, Number(query.get('limit') ?? 50) || 50));
      const head = await store.events.headPosition();
      const batch = await store.events.readAll({ position: Math.max(0, head - limit) }, { limit });
      return {
        head,
        items: batch.events.map((event) => ({
          service: options.service,
          globalPosition: event.globalPosition,
          streamId: event.streamId,
          streamPosition: event.streamPosition,
          type: event.type,
          correlationId: event.correlationId,
          occurredAt: event.occurredAt,
        })),
      };
    },
    async flows(parts) {
      if (parts.length !== 1) throw new NotFound('Name the correlation id: flows/<id>');
      const correlationId = decodeURIComponent(parts[0]!);
      return {
        correlationId,
        entries: await flowTimeline(correlationId, [{ service: options.service, store }]),
      };
    },
    async traces(parts) {
      if (parts.length !== 1) throw new NotFound('Name the trace id: traces/<id>');
      // Hex digits only: nothing to decode, and a malformed escape is refused as any other bad id.
      const traceId = parts[0]!;
      if (!isTraceId(traceId)) throw new BadInput(`A trace id is 32 lowercase hex digits, got ${traceId}`);
      return traceView(traceId, options.traces);
    },
    async projections() {
      if (!options.projections) return { items: [] };
      const { runner, names } = options.projections;
      return { items: await Promise.all(names.map((name) => runner.status(name))) };
    },
    async caches() {
      return { items: cacheViews(options.caches ?? {}) };
    },
  };

  async function act(parts: string[], method: string): Promise<unknown> {
    const [collection, id, verb] = parts;
    if (collection === 'dead-letters' && id !== undefined) {
      const sequence = Number(id);
      if (!Number.isInteger(sequence) || sequence < 1)
        throw new BadInput(`A dead letter's id is a whole number, got ${id}`);
      const entry = await deadLetter(sequence);
      const owner = ownerOf(sequence, entry.consumer);
      if (method === 'POST' && verb === 'redrive') return owner.redrive(sequence);
      if (method === 'DELETE' && verb === undefined) {
        if (entry.status !== 'dead' && entry.status !== 'parked') {
          throw new Conflict(
            `Dead letter ${sequence} is ${entry.status}: only a dead or parked one can be discarded`,
          );
        }
        await owner.discard(sequence);
        return { sequence, status: 'discarded' };
      }
    }
    if (collection === 'sagas' && id !== undefined && method === 'POST' && verb === 'redrive') {
      if (!options.sagas) throw new NotFound('This service runs no saga orchestrator');
      return options.sagas.redrive(decodeURIComponent(id));
    }
    if (collection === 'projections' && id !== undefined && method === 'POST' && options.projections) {
      const { runner } = options.projections;
      const name = decodeURIComponent(id);
      if (!options.projections.names.includes(name)) throw new NotFound(`No projection ${name} here`);
      if (verb === 'pause') await runner.pause();
      else if (verb === 'resume') await runner.resume();
      else if (verb === 'rebuild') runner.rebuild(name).catch(() => {});
      else throw new NotFound(`No action ${verb} on a projection: pause, resume or rebuild`);
      return runner.status(name);
    }
    throw new NotFound(`No action ${method} ${parts.join('/')}`);
  }

  return async function handle(request, response) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
    const path = url.pathname.slice(base.length);
    try {
      if (!path.startsWith('/api/')) {
        await serveDashboardFile(path === '' ? '/' : path, base, response);
        return true;
      }
      const method = request.method ?? 'GET';
      const parts = path.slice('/api/'.length).split('/').filter(Boolean);
      const reading = method === 'GET' || method === 'HEAD';
      const refusal = accessRefusal(options.access, request, reading ? 'read' : 'act');
      if (refusal) {
        sendProblem(response, refusal);
        return true;
      }
      if (reading) {
        const read = reads[parts[0] ?? ''];
        if (!read)
          throw new NotFound(
            `No view ${parts[0] ?? ''}: overview, sagas, dead-letters, events, flows, traces, projections, caches`,
          );
        sendJson(response, 200, await read(parts.slice(1), url.searchParams));
      } else {
        sendJson(response, 200, await act(parts, method));
      }
    } catch (error) {
      sendProblem(response, problemFor(error));
    }
    return true;
  };
}

function problemFor(error: unknown): Problem {
  if (error instanceof NotFound) return { title: 'Not found', status: 404, detail: error.message };
  if (error instanceof BadInput) return { title: 'Invalid request', status: 400, detail: error.message };
  if (error instanceof Conflict) return { title: 'Conflict', status: 409, detail: error.message };
  return problemOf(error);
}
