/**
 * Rebuilds the query read models from scratch: empties them, then replays every source service's
 * event log (read over its `/admin/events` endpoint) merged by time, so that across sources the
 * events apply in the order they happened (a user forgotten after their orders stays forgotten).
 * Each batch commits with the rebuild's progress, so a restarted query service resumes where it
 * stopped. Events after the heads taken at the start are left to the live consumer.
 */
import type { Message, MessageHandler, Store, Transaction } from '@causeway/core';
import type { ServiceClient } from '../../platform/service-client.ts';
import { type ProjectionSource, type ProjectionTracker, projectionSources } from './projection-tracker.ts';

export interface RebuildState {
  status: 'running' | 'done';
  startedAt: string;
  finishedAt: string | null;
  /** Events to replay: the sources' counts up to their heads at the start. */
  total: number;
  replayed: number;
  heads: Record<ProjectionSource, number>;
  /** Last global position replayed per source: where a resumed rebuild continues. */
  positions: Record<ProjectionSource, number>;
}

export interface RebuildDeps {
  store: Store;
  call: ServiceClient;
  tracker: ProjectionTracker;
  handlers: Readonly<Record<string, MessageHandler>>;
  readModels: readonly string[];
  /** Writes the state in the caller's transaction (the batch it describes). */
  saveState(tx: Transaction, state: RebuildState): Promise<unknown>;
  /** The latest state, for the progress the dashboard shows. */
  onProgress(state: RebuildState): void;
  /** Why it waits (a source that does not answer; it retries until it can go on), or null. */
  onWaiting(reason: string | null): void;
  isStopping(): boolean;
}

const pageSize = 500;
const batchSize = 200;
const retryMs = 1_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Page {
  items: Message[];
  cursor: string;
  position: number;
}

/** Takes the heads and counts, empties the read models and records the start, in one transaction. */
export async function beginRebuild(deps: RebuildDeps): Promise<RebuildState> {
  const heads = {} as Record<ProjectionSource, number>;
  let total = 0;
  for (const source of projectionSources) {
    const stats = await retrying(deps, `${source} stats`, () =>
      callOk<{ head: number; count: number }>(deps.call, source, '/admin/events/stats?after=0'),
    );
    heads[source] = stats.head;
    total += stats.count;
  }
  const state: RebuildState = {
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: null,
    total,
    replayed: 0,
    heads,
    positions: Object.fromEntries(projectionSources.map((source) => [source, 0])) as Record<
      ProjectionSource,
      number
    >,
  };
  await deps.store.transaction(async (tx) => {
    for (const table of [...deps.readModels, 'applied_streams', 'projection_sources']) {
      await tx.execute(`DELETE FROM ${table}`);
    }
    await deps.saveState(tx, state);
  });
  deps.onProgress(state);
  return state;
}

/** Replays from where `state` stands to the heads; returns the finished state (or the last one when stopping). */
export async function continueRebuild(deps: RebuildDeps, start: RebuildState): Promise<RebuildState> {
  let state = { ...start, positions: { ...start.positions } };
  const buffers = new Map<ProjectionSource, Message[]>(projectionSources.map((source) => [source, []]));
  const cursors = new Map<ProjectionSource, string | null>(projectionSources.map((source) => [source, null]));
  const read = new Map<ProjectionSource, number>(
    projectionSources.map((source) => [source, state.positions[source]]),
  );
  const exhausted = (source: ProjectionSource) =>
    buffers.get(source)!.length === 0 && read.get(source)! >= state.heads[source];

  while (!deps.isStopping()) {
    for (const source of projectionSources) {
      if (buffers.get(source)!.length > 0 || exhausted(source)) continue;
      const page = await retrying(deps, source, () =>
        fetchPage(deps.call, source, read.get(source)!, cursors.get(source)!),
      );
      cursors.set(source, page.cursor);
      read.set(source, page.position);
      buffers.get(source)!.push(...page.items.filter((event) => event.globalPosition <= state.heads[source]));
      // Empty below the head: a PostgreSQL source holds a gap until it is proven final; ask again.
      if (page.items.length === 0 && page.position < state.heads[source]) await pause(50);
    }
    if (projectionSources.every(exhausted)) break;
    const batch = takeInTimeOrder(buffers, exhausted, batchSize);
    if (batch.length === 0) continue;
    state = await applyBatch(deps, state, batch);
  }
  if (deps.isStopping()) return state;
  const finished: RebuildState = { ...state, status: 'done', finishedAt: new Date().toISOString() };
  await deps.store.transaction((tx) => deps.saveState(tx, finished));
  deps.onProgress(finished);
  return finished;
}

/**
 * The earliest events across the buffers, while every source that may still have events has
 * some buffered: taking past an empty one could apply a later event before an earlier one.
 */
function takeInTimeOrder(
  buffers: Map<ProjectionSource, Message[]>,
  exhausted: (source: ProjectionSource) => boolean,
  limit: number,
): Array<{ source: ProjectionSource; event: Message }> {
  const batch: Array<{ source: ProjectionSource; event: Message }> = [];
  while (batch.length < limit) {
    const live = projectionSources.filter((source) => !exhausted(source));
    if (live.length === 0 || live.some((source) => buffers.get(source)!.length === 0)) break;
    const source = live.reduce((earliest, each) =>
      buffers.get(each)![0]!.occurredAt < buffers.get(earliest)![0]!.occurredAt ? each : earliest,
    );
    batch.push({ source, event: buffers.get(source)!.shift()! });
  }
  return batch;
}

async function applyBatch(
  deps: RebuildDeps,
  state: RebuildState,
  batch: ReadonlyArray<{ source: ProjectionSource; event: Message }>,
): Promise<RebuildState> {
  const next: RebuildState = { ...state, positions: { ...state.positions } };
  await deps.store.transaction(async (tx) => {
    for (const { source, event } of batch) {
      await deps.tracker.replay(event, tx, deps.handlers);
      next.positions[source] = event.globalPosition;
      next.replayed++;
    }
    await deps.saveState(tx, next);
  });
  deps.onProgress(next);
  return next;
}

async function fetchPage(
  call: ServiceClient,
  source: ProjectionSource,
  after: number,
  cursor: string | null,
) {
  const query = cursor ? `cursor=${encodeURIComponent(cursor)}` : `after=${after}`;
  return callOk<Page>(call, source, `/admin/events?${query}&limit=${pageSize}&data=1`);
}

async function callOk<T>(call: ServiceClient, service: string, path: string): Promise<T> {
  const answer = await call(service, 'GET', path, { timeoutMs: 10_000 });
  if (answer.status !== 200) {
    throw new Error(
      `${service} answered ${answer.status} to ${path}: ${JSON.stringify(answer.body).slice(0, 200)}`,
    );
  }
  return answer.body as T;
}

/** Tries until it works or the service stops, showing why it waits in the progress. */
async function retrying<T>(deps: RebuildDeps, what: string, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const result = await work();
      deps.onWaiting(null);
      return result;
    } catch (error) {
      if (deps.isStopping()) throw error;
      deps.onWaiting(`${what}: ${error instanceof Error ? error.message : String(error)}; retrying`);
      await pause(retryMs);
    }
  }
}
