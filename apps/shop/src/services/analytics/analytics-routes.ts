/** The Analytics rows of SHOP-API, answered from the live generation's gold tables. */
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '@causeway/core';
import type { ReverseEtl } from '@causeway/lakehouse';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ShopConfig } from '../../config.ts';
import { carriesAdminToken, requireAdmin } from '../../platform/admin-guard.ts';
import { parseInput } from '../../platform/http-input.ts';
import { log } from '../../platform/log.ts';
import { createServiceClient } from '../../platform/service-client.ts';
import type { AnalyticsPipeline } from './analytics-pipeline.ts';
import type { ContractQuality } from './contract-quality.ts';
import type { ReplayResult } from './generations.ts';
import { readLambdaChecks } from './lambda-check.ts';
import { readTopCustomers } from './top-customers.ts';
import type { Upkeep } from './upkeep.ts';

const salesQuery = z.object({ groupBy: z.enum(['day', 'product', 'country']).default('day') });
const runParams = z.object({ id: z.string().uuid() });
const rejectedQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });
const checksQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) });
const reverseRunParams = z.object({ id: z.string().uuid() });
const reverseRunBody = z
  .object({ sync: z.string().min(1).max(64).optional() })
  .strict()
  .default({});
const reverseRunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });
const customersQuery = z.object({ top: z.coerce.number().int().min(1).max(100).default(10) });

interface SalesRow {
  key: string;
  orders: number;
  units: number;
  revenue_cents: number;
}

/** What the routes read: the live generation's pipeline, and the replay that replaces it. */
export interface AnalyticsState {
  live(): AnalyticsPipeline;
  replay(): Promise<ReplayResult>;
  upkeep(): Upkeep;
  reverseEtl: ReverseEtl;
  quality: ContractQuality;
}

export function installAnalyticsRoutes(app: FastifyInstance, config: ShopConfig, state: AnalyticsState) {
  const queued = new Set<string>();

  app.get('/analytics/sales', async (request) => {
    const { groupBy } = parseInput(salesQuery, request.query, 'query');
    const pipeline = state.live();
    const { layers } = await pipeline.freshness();
    return { rows: await readSales(pipeline, `sales_by_${groupBy}`), asOf: layers.gold.updatedAt };
  });

  app.get('/analytics/freshness', async () => state.live().freshness());

  const call = createServiceClient(config);
  app.get('/analytics/customers', async (request) => {
    const { top } = parseInput(customersQuery, request.query, 'query');
    const reveal = carriesAdminToken(config, request.headers.authorization);
    return readTopCustomers(state.live(), { top, reveal, call });
  });

  app.get('/analytics/rejected', async (request) => {
    const { limit } = parseInput(rejectedQuery, request.query, 'query');
    return readRejected(state.live(), limit);
  });

  app.get('/analytics/exports', async () => {
    const exported = state.upkeep().lastExport();
    if (!exported) throw new NotFoundError('Analytics export', 'latest');
    return exported;
  });

  // Answers once the files are written: every gold table of one model run, and bronze.
  app.post('/analytics/exports', { preHandler: requireAdmin(config) }, async () =>
    state.upkeep().exportNow(),
  );

  app.get('/analytics/lambda', async (request) => {
    const { limit } = parseInput(checksQuery, request.query, 'query');
    return { checks: await readLambdaChecks(state.live().lakehouse, limit) };
  });

  // Answers with the comparison once the full recompute ran: the drift per gold table, which must be 0.
  app.post('/analytics/lambda', { preHandler: requireAdmin(config) }, async () => state.upkeep().checkNow());

  // The contracts' quality rules as last run after a model run, per data product.
  app.get('/analytics/quality', async () => ({ products: state.quality.latest() }));

  app.get('/analytics/reverse-etl', async (request) => {
    const { limit } = parseInput(reverseRunsQuery, request.query, 'query');
    const { reverseEtl } = state;
    return { syncs: reverseEtl.syncs, runs: await reverseEtl.runs({ limit }) };
  });

  // Runs a sync now (default: the only one) and answers its logged run once its commands are in the outbox.
  app.post('/analytics/reverse-etl/runs', { preHandler: requireAdmin(config) }, async (request) => {
    const { sync } = parseInput(reverseRunBody, request.body ?? {});
    const name = sync ?? state.reverseEtl.syncs[0]?.name;
    if (name === undefined) throw new NotFoundError('Reverse sync', 'any');
    return state.reverseEtl.run(name);
  });

  // Sends a run's commands again with their ids: the catalog's inbox and asOf make it change nothing.
  app.post(
    '/analytics/reverse-etl/runs/:id/replay',
    { preHandler: requireAdmin(config) },
    async (request) => {
      const { id } = parseInput(reverseRunParams, request.params, 'path');
      return state.reverseEtl.replay(id);
    },
  );

  app.get('/analytics/models', async () => ({ models: await state.live().runner.describe() }));

  // Answers once the rebuilt layers are live; until then every answer comes from the old ones.
  app.post('/analytics/replay', { preHandler: requireAdmin(config) }, async () => state.replay());

  app.post('/analytics/runs', { preHandler: requireAdmin(config) }, async (_request, reply) => {
    const runId = randomUUID();
    queued.add(runId);
    // Answered at once: the run goes on, and GET /analytics/runs/:id shows it as it goes.
    state
      .live()
      .runNow({ runId, onStarted: () => queued.delete(runId) })
      .catch((error) => log.warn(`run ${runId} failed: ${String(error)}`))
      .finally(() => queued.delete(runId));
    return reply.code(202).send({ runId });
  });

  app.get('/analytics/runs/:id', async (request) => {
    const { id } = parseInput(runParams, request.params, 'path');
    const run = await state.live().runner.getRun(id);
    if (run) return run;
    if (queued.has(id)) return { runId: id, status: 'queued', models: [] };
    throw new NotFoundError('Analytics run', id);
  });
}

/** A gold aggregate's rows; none before the first model run built it. */
async function readSales(pipeline: AnalyticsPipeline, model: string) {
  if (!(await pipeline.isBuilt(model))) return [];
  const rows = await pipeline.lakehouse.all<SalesRow>(
    `SELECT key, orders, units, revenue_cents FROM ${pipeline.gold(model)} ORDER BY key`,
  );
  return rows.map((row) => ({
    key: row.key,
    orders: row.orders,
    units: row.units,
    revenueCents: row.revenue_cents,
  }));
}

interface RejectedRow {
  event_id: string | null;
  service: string;
  event_type: string | null;
  occurred_at: string | null;
  reject_reason: string;
}

/** Changes held out of silver, newest first, with the reason: they stay in bronze as they came. */
async function readRejected(pipeline: AnalyticsPipeline, limit: number) {
  if (!(await pipeline.isBuilt('events'))) return { total: 0, rows: [] };
  const schema = pipeline.generation.schemaOf('silver');
  const [counted] = await pipeline.lakehouse.all<{ total: number }>(
    `SELECT count(*) AS total FROM "${schema}".events WHERE reject_reason IS NOT NULL`,
  );
  const rows = await pipeline.lakehouse.all<RejectedRow>(
    `SELECT event_id, service, event_type, CAST(occurred_at AS VARCHAR) AS occurred_at, reject_reason
     FROM "${schema}".events WHERE reject_reason IS NOT NULL
     ORDER BY ingest_seq DESC LIMIT ${limit}`,
  );
  return {
    total: counted?.total ?? 0,
    rows: rows.map((row) => ({
      eventId: row.event_id,
      service: row.service,
      eventType: row.event_type,
      occurredAt: row.occurred_at,
      reason: row.reject_reason,
    })),
  };
}
