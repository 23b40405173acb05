/**
 * The query service's projection as operators see it: per source service its position, head and
 * lag (events and seconds), the read models' sizes, the consistency window (event written →
 * visible here) as a histogram, and the actions pause, resume and rebuild (with progress). Pause
 * and a running rebuild are kept in the store, so a restarted query service honours them.
 */
import type { Consumer, MessageHandler, Transaction } from '@causeway/core';
import { requireAdmin } from '../../platform/admin-guard.ts';
import { createLatencyHistogram } from '../../platform/latency-histogram.ts';
import { ConflictError } from '../../platform/problem.ts';
import { createServiceClient } from '../../platform/service-client.ts';
import type { ServiceContext } from '../../platform/service-runtime.ts';
import { beginRebuild, continueRebuild, type RebuildDeps, type RebuildState } from './projection-rebuild.ts';
import {
  createProjectionTracker,
  type ProjectionSource,
  readSourcePositions,
  type SourceHandlers,
  type SourcePosition,
  trackerDdl,
} from './projection-tracker.ts';

const controlDdl =
  'CREATE TABLE IF NOT EXISTS projection_control (name TEXT PRIMARY KEY, paused INTEGER NOT NULL, rebuild TEXT)';

interface Control {
  paused: boolean;
  rebuild: RebuildState | null;
}

/**
 * Installs the admin routes and returns `track`, which wraps the consumer's handlers. Call after
 * the read models' tables exist and before the consumer is created.
 */
export async function installQueryAdmin(
  service: Pick<ServiceContext, 'app' | 'config' | 'store' | 'consumerNamed' | 'onStart' | 'onStop'>,
  options: { consumer: string; readModels: readonly string[] },
) {
  const { app, config, store } = service;
  await store.transaction(async (tx) => {
    for (const sql of [...trackerDdl, controlDdl]) await tx.execute(sql);
  });
  const histogram = createLatencyHistogram();
  const tracker = createProjectionTracker({ histogram });
  const call = createServiceClient(config);
  const control = await store.transaction((tx) => loadControl(tx, options.consumer));
  let rebuildWaiting: string | null = null;
  let rebuildRun: Promise<unknown> | null = null;
  let stopping = false;
  let handlers: Readonly<Record<string, MessageHandler>> = {};
  // Closed before the consumer starts, so a rebuild cut short by a crash is not raced by it.
  tracker.setRebuilding(control.rebuild?.status === 'running');

  const consumer = (): Consumer => {
    const found = service.consumerNamed(options.consumer);
    if (!found) throw new Error(`query admin: no consumer named ${options.consumer}`);
    return found;
  };
  const saveControl = (tx: Transaction) =>
    tx.execute(
      `INSERT INTO projection_control (name, paused, rebuild) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, rebuild = excluded.rebuild`,
      [options.consumer, control.paused ? 1 : 0, control.rebuild ? JSON.stringify(control.rebuild) : null],
    );
  const rebuildDeps: RebuildDeps = {
    store,
    call,
    tracker,
    get handlers() {
      return handlers;
    },
    readModels: options.readModels,
    saveState: (tx, state) => {
      control.rebuild = state;
      return saveControl(tx);
    },
    onProgress: (state) => {
      control.rebuild = state;
    },
    onWaiting: (reason) => {
      rebuildWaiting = reason;
    },
    isStopping: () => stopping,
  };

  /** The consumer is stopped (its handlers drained) for the whole replay, and started after unless paused. */
  function runRebuild(resume: RebuildState | null) {
    rebuildRun = (async () => {
      tracker.setRebuilding(true);
      await consumer().stop();
      const started = resume ?? (await beginRebuild(rebuildDeps));
      await continueRebuild(rebuildDeps, started);
      if (stopping) return;
      tracker.setRebuilding(false);
      if (!control.paused) await consumer().start();
    })()
      .catch((error) => {
        if (!stopping)
          rebuildWaiting = `rebuild stopped: ${error instanceof Error ? error.message : String(error)}`;
      })
      .finally(() => {
        rebuildRun = null;
      });
  }

  service.onStart(async () => {
    if (control.rebuild?.status === 'running') runRebuild(control.rebuild);
    else if (control.paused) await consumer().stop();
  });
  service.onStop(async () => {
    stopping = true;
    await rebuildRun;
  });

  const adminOnly = requireAdmin(config);
  app.get('/admin/projections', async () => {
    const [positions, readModels] = await store.transaction(async (tx) => [
      await readSourcePositions(tx),
      await countRows(tx, options.readModels),
    ]);
    const rebuilding = control.rebuild?.status === 'running';
    return {
      name: options.consumer,
      status: rebuilding ? 'rebuilding' : control.paused ? 'paused' : 'live',
      sources: await Promise.all(positions.map((position) => lagOf(call, position))),
      readModels,
      rebuild: control.rebuild ? { ...publicState(control.rebuild), waiting: rebuildWaiting } : null,
      consistency: histogram.snapshot(),
    };
  });
  app.post('/admin/projections/rebuild', { preHandler: adminOnly }, async (_request, reply) => {
    // A stored "running" with no run in this process is one that stopped on an error: start over.
    if (rebuildRun) {
      throw new ConflictError('A rebuild of the query read models is already running');
    }
    control.rebuild = null;
    rebuildWaiting = null;
    runRebuild(null);
    return reply.status(202).send({ status: 'rebuilding' });
  });
  app.post('/admin/projections/pause', { preHandler: adminOnly }, async () => {
    control.paused = true;
    await store.transaction(saveControl);
    if (!rebuildRun) await consumer().stop();
    return { status: 'paused' };
  });
  app.post('/admin/projections/resume', { preHandler: adminOnly }, async () => {
    control.paused = false;
    await store.transaction(saveControl);
    if (!rebuildRun) await consumer().start();
    return { status: control.rebuild?.status === 'running' ? 'rebuilding' : 'live' };
  });

  return {
    /** The handlers to give the consumer: each event tracked, skipped if its stream already has it. */
    track(given: SourceHandlers): SourceHandlers {
      handlers = given as Readonly<Record<string, MessageHandler>>;
      return tracker.track(given);
    },
  };
}

async function loadControl(tx: Transaction, name: string): Promise<Control> {
  const [row] = await tx.query<{ paused: number | string; rebuild: string | null }>(
    'SELECT paused, rebuild FROM projection_control WHERE name = $1',
    [name],
  );
  return {
    paused: Number(row?.paused ?? 0) === 1,
    rebuild: row?.rebuild ? (JSON.parse(row.rebuild) as RebuildState) : null,
  };
}

async function countRows(tx: Transaction, tables: readonly string[]) {
  const counts = [];
  for (const table of tables) {
    const [row] = await tx.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`);
    counts.push({ name: table, rows: Number(row?.n ?? 0) });
  }
  return counts;
}

function publicState(state: RebuildState) {
  const { status, startedAt, finishedAt, total, replayed } = state;
  return { status, startedAt, finishedAt, total, replayed };
}

/**
 * Lag of one source: events it holds that are not applied here, and how long the oldest of them
 * has waited (the first event after the applied position; when every unapplied event lies below
 * it, out of order across streams, the time since anything was last applied).
 */
async function lagOf(call: ReturnType<typeof createServiceClient>, position: SourcePosition) {
  const base = {
    service: position.source as ProjectionSource,
    position: position.position,
    applied: position.applied,
  };
  try {
    const answer = await call(position.source, 'GET', `/admin/events/stats?after=${position.position}`, {
      timeoutMs: 1_000,
    });
    if (answer.status !== 200) throw new Error(`answered ${answer.status}`);
    const stats = answer.body as {
      head: number;
      count: number;
      firstAfter: { occurredAt: string } | null;
    };
    const lagEvents = Math.max(0, stats.count - position.applied);
    const waitingSince = stats.firstAfter?.occurredAt ?? position.lastAppliedAt;
    const lagSeconds =
      lagEvents === 0 || !waitingSince ? 0 : Math.max(0, (Date.now() - Date.parse(waitingSince)) / 1000);
    return {
      ...base,
      head: stats.head,
      sourceEvents: stats.count,
      lagEvents,
      lagSeconds,
      lastAppliedAt: position.lastAppliedAt,
      error: null,
    };
  } catch (error) {
    return {
      ...base,
      head: null,
      sourceEvents: null,
      lagEvents: null,
      lagSeconds: null,
      lastAppliedAt: position.lastAppliedAt,
      error: `${position.source} did not answer: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
