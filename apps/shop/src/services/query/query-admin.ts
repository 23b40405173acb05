/**
 * The query projection as operators see it: per source service its position, head and lag
 * (events and seconds), the read models' sizes, the consistency window (event written → visible
 * here) as a histogram, and pause, resume and rebuild (with progress). The runner keeps pause and
 * an unfinished rebuild in the store, so a restarted query service honours them.
 */
import type { ProjectionRunner, Store } from '@causeway/core';
import { requireAdmin } from '../../platform/admin-guard.ts';
import type { LatencyHistogram } from '../../platform/latency-histogram.ts';
import { ConflictError } from '../../platform/problem.ts';
import type { ServiceContext } from '../../platform/service-runtime.ts';

export function installQueryAdmin(
  service: Pick<ServiceContext, 'app' | 'config'>,
  options: {
    store: Store;
    runner: ProjectionRunner;
    projection: string;
    readModels: readonly string[];
    histogram: LatencyHistogram;
  },
) {
  const { app, config } = service;
  const { runner, projection } = options;

  app.get('/admin/projections', async () => {
    const status = await runner.status(projection);
    return {
      name: projection,
      status: status.state,
      sources: status.sources.map(({ name, kind: _kind, ...source }) => ({ service: name, ...source })),
      readModels: await countRows(options.store, options.readModels),
      rebuild: status.rebuild
        ? {
            status: status.rebuild.status,
            startedAt: status.rebuild.startedAt,
            finishedAt: status.rebuild.finishedAt,
            total: status.rebuild.total,
            replayed: status.rebuild.processed,
            waiting: status.rebuild.waiting ?? status.rebuild.error,
          }
        : null,
      generation: status.generation,
      consistency: options.histogram.snapshot(),
    };
  });

  const adminOnly = requireAdmin(config);
  app.post('/admin/projections/rebuild', { preHandler: adminOnly }, async (_request, reply) => {
    if ((await runner.status(projection)).rebuild?.status === 'running') {
      throw new ConflictError('A rebuild of the query read models is already running');
    }
    // Answered at once; progress shows on GET /admin/projections.
    runner.rebuild(projection).catch(() => {});
    return reply.status(202).send({ status: 'rebuilding' });
  });
  app.post('/admin/projections/pause', { preHandler: adminOnly }, async () => {
    await runner.pause();
    return { status: 'paused' };
  });
  app.post('/admin/projections/resume', { preHandler: adminOnly }, async () => {
    await runner.resume();
    return { status: (await runner.status(projection)).state };
  });
}

async function countRows(store: Store, tables: readonly string[]) {
  return store.transaction(async (tx) => {
    const counts = [];
    for (const table of tables) {
      const [row] = await tx.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`);
      counts.push({ name: table, rows: Number(row?.n ?? 0) });
    }
    return counts;
  });
}
