/**
 * The gateway's admin API under /api: what the dashboard reads (a live stream, sagas with their
 * step diagram, a flow across every service, projections, dead letters) and the admin actions it
 * sends on to the service concerned. Actions pass `requireAdmin` here and again in the service,
 * which gets the caller's Authorization header. Sagas, flows, dead letters and traces are read
 * from (and acted on through) the `@causeway/admin` API each process mounts at `/causeway/api`.
 */
import { createHash } from 'node:crypto';
import type { SagaDiagram } from '@causeway/admin';
import { NotFoundError, type SagaInstance, sagaStepLabel } from '@causeway/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { backendServiceNames, instanceName, instancesOf, type ShopConfig, serviceNames } from '../config.ts';
import { authorizationOf, guardAdminReads, requireAdmin } from '../platform/admin-guard.ts';
import { parseInput } from '../platform/http-input.ts';
import { sendProblem } from '../platform/problem.ts';
import { cpuSinceStart } from '../platform/process-cpu.ts';
import type { ServiceAnswer, ServiceClient } from '../platform/service-client.ts';
import type { DashboardFeed } from './dashboard-feed.ts';

const idParam = z.object({ id: z.string().min(1).max(200) });
const traceParam = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/, 'a W3C trace id: 32 lowercase hex digits'),
});
/** Where each process serves `@causeway/admin`'s API (admin-page.ts mounts it). */
const adminApi = '/causeway/api';
const deadLetterParam = z.object({ id: z.string().regex(/^[a-z]+:\d+$/, 'service:sequence') });
const sagaStatus = z.enum(['running', 'compensating', 'completed', 'compensated', 'dead']);

export interface AdminRouteDeps {
  config: ShopConfig;
  call: ServiceClient;
  feed: DashboardFeed;
}

/** Sends a service's answer on as it is (problems stay problem+json). */
function relay(reply: FastifyReply, answer: ServiceAnswer) {
  if (answer.status >= 400) return sendProblem(reply, answer.body as never);
  return reply.status(answer.status).send(answer.body);
}

export function registerAdminRoutes(api: FastifyInstance, { config, call, feed }: AdminRouteDeps): void {
  const adminOnly = requireAdmin(config);
  // Outside dev mode every read here needs a token, but the one the dashboard asks first (is a
  // token needed?). The gateway then reads from the services with its own.
  guardAdminReads(
    api,
    config,
    (path) =>
      (path.startsWith('/api/admin/') && path !== '/api/admin/config') || path === '/api/dead-letters',
  );
  /** Every service's answer to the same GET; a service that does not answer is left out. */
  const askEach = (path: string) =>
    Promise.all(
      serviceNames.map(async (service) => ({
        service,
        answer: await call(service, 'GET', path, { timeoutMs: 2_000 }).catch(() => null),
      })),
    );
  /**
   * Every process's answer to the same GET, named as the process (`orders-2`): a service run several
   * times answers from each. A process that does not answer has a null answer.
   */
  const askEveryProcess = (services: readonly string[], path: string) =>
    Promise.all(
      services
        .flatMap((service) =>
          Array.from({ length: instancesOf(config, service) }, (_, instance) => ({ service, instance })),
        )
        .map(async ({ service, instance }) => ({
          name: instanceName(service, instance),
          answer: await call.instance(service, instance, 'GET', path, { timeoutMs: 2_000 }).catch(() => null),
        })),
    );
  const deadLetterOf = (params: unknown) => {
    const { id } = parseInput(deadLetterParam, params, 'path');
    const [service, sequence] = id.split(':') as [string, string];
    if (!serviceNames.includes(service as never)) throw new NotFoundError('Dead letter', id);
    return { service, sequence };
  };

  // Tells one shop's data from another's, so the page keeps its demo user per shop.
  const shopId = createHash('sha256')
    .update(`${config.dataDir}|${config.postgresUrl ?? ''}|${config.postgresDbPrefix}`)
    .digest('hex')
    .slice(0, 16);
  api.get('/admin/config', async () => ({
    shopId,
    dev: config.dev,
    tokenRequired: !config.dev,
    tokenConfigured: config.adminToken !== undefined,
    readTokenConfigured: config.readToken !== undefined,
    pollMs: feed.pollMs,
  }));
  api.get('/admin/overview', async () => feed.snapshot());
  // CPU milliseconds per process since its start (a load run takes the difference, per order).
  api.get('/admin/cpu', async () => {
    const processes: Record<string, { pid: number; userMs: number; systemMs: number } | null> = {
      gateway: { pid: process.pid, ...cpuSinceStart() },
    };
    const answers = await askEveryProcess(backendServiceNames, '/admin/info');
    for (const { name, answer } of answers) {
      const info =
        answer?.status === 200
          ? (answer.body as { pid: number; cpu?: { userMs: number; systemMs: number } })
          : null;
      processes[name] = info?.cpu ? { pid: info.pid, ...info.cpu } : null;
    }
    return { processes };
  });
  api.get('/admin/stream', (request, reply) => {
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    });
    stream.write(`retry: 2000\n\n`);
    stream.write(`event: hello\ndata: ${JSON.stringify({ dev: config.dev, pollMs: feed.pollMs })}\n\n`);
    const unsubscribe = feed.subscribe({
      send: (topic, data) => stream.write(`event: ${topic}\ndata: ${JSON.stringify(data)}\n\n`),
      end: () => stream.end(),
    });
    // A comment now and then keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  api.get('/admin/sagas', async (request) => {
    const { status } = parseInput(z.object({ status: sagaStatus.optional() }), request.query, 'query');
    const answers = await askEach(`${adminApi}/sagas${status ? `?status=${status}` : ''}`);
    const items = answers.flatMap(({ service, answer }) =>
      answer?.status === 200
        ? (answer.body as { items: SagaInstance[] }).items.map((saga) => ({
            service,
            ...saga,
            step: sagaStepLabel(saga),
          }))
        : [],
    );
    return { items: items.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 100) };
  });
  /** The service holding a saga: the one that answers 200 for it. */
  async function sagaOwner(id: string) {
    const answers = await askEach(`${adminApi}/sagas/${encodeURIComponent(id)}`);
    const found = answers.find(({ answer }) => answer?.status === 200);
    if (!found) throw new NotFoundError('Saga', id);
    return { service: found.service, saga: found.answer!.body as SagaInstance & { diagram: SagaDiagram } };
  }
  api.get('/admin/sagas/:id', async (request) => {
    const { id } = parseInput(idParam, request.params, 'path');
    // The service draws the diagram (it knows its compensations' names); the gateway names the service.
    const { service, saga } = await sagaOwner(id);
    const { diagram, ...instance } = saga;
    return { service, saga: instance, diagram };
  });
  api.post('/admin/sagas/:id/redrive', { preHandler: adminOnly }, async (request, reply) => {
    const { id } = parseInput(idParam, request.params, 'path');
    const { service } = await sagaOwner(id);
    return relay(
      reply,
      await call(service, 'POST', `${adminApi}/sagas/${encodeURIComponent(id)}/redrive`, {
        headers: authorizationOf(request),
      }),
    );
  });

  api.get('/admin/flows/:id', async (request) => {
    const { id } = parseInput(idParam, request.params, 'path');
    const answers = await askEach(`${adminApi}/flows/${encodeURIComponent(id)}`);
    const entries = answers
      .flatMap(({ answer }) =>
        answer?.status === 200 ? (answer.body as { entries: Array<{ at: string }> }).entries : [],
      )
      .sort((a, b) => a.at.localeCompare(b.at));
    const partial = answers.filter(({ answer }) => answer?.status !== 200).map(({ service }) => service);
    return { correlationId: id, entries, ...(partial.length > 0 ? { partial } : {}) };
  });

  // One trace's spans from every process: each keeps the spans it ended recently (tracing on).
  api.get('/admin/traces/:traceId', async (request) => {
    const { traceId } = parseInput(traceParam, request.params, 'path');
    const answers = await askEveryProcess(serviceNames, `${adminApi}/traces/${traceId}`);
    const views = answers.flatMap(({ answer }) =>
      answer?.status === 200 ? [answer.body as { recorded: boolean; spans: Array<{ startMs: number }> }] : [],
    );
    const partial = answers.filter(({ answer }) => answer?.status !== 200).map(({ name }) => name);
    return {
      traceId,
      recorded: views.some((view) => view.recorded),
      spans: views.flatMap((view) => view.spans).sort((a, b) => a.startMs - b.startMs),
      ...(partial.length > 0 ? { partial } : {}),
    };
  });

  api.get('/admin/projections', async (_request, reply) =>
    relay(reply, await call('query', 'GET', '/admin/projections', { timeoutMs: 5_000 })),
  );
  api.post('/admin/projections/:action', { preHandler: adminOnly }, async (request, reply) => {
    const { action } = parseInput(
      z.object({ action: z.enum(['rebuild', 'pause', 'resume']) }),
      request.params,
      'path',
    );
    return relay(
      reply,
      await call('query', 'POST', `/admin/projections/${action}`, { headers: authorizationOf(request) }),
    );
  });

  api.get('/dead-letters', async () => {
    const answers = await askEach(`${adminApi}/dead-letters`);
    const items = answers.flatMap(({ service, answer }) =>
      answer?.status === 200
        ? (answer.body as { items: Array<{ sequence: number }> }).items.map((entry) => ({
            id: `${service}:${entry.sequence}`,
            service,
            ...entry,
          }))
        : [],
    );
    return { items };
  });
  api.post('/dead-letters/:id/redrive', { preHandler: adminOnly }, async (request, reply) => {
    const { service, sequence } = deadLetterOf(request.params);
    return relay(
      reply,
      await call(service, 'POST', `${adminApi}/dead-letters/${sequence}/redrive`, {
        headers: authorizationOf(request),
      }),
    );
  });
  api.delete('/dead-letters/:id', { preHandler: adminOnly }, async (request, reply) => {
    const { service, sequence } = deadLetterOf(request.params);
    return relay(
      reply,
      await call(service, 'DELETE', `${adminApi}/dead-letters/${sequence}`, {
        headers: authorizationOf(request),
      }),
    );
  });

  api.post('/admin/dev/poison', { preHandler: adminOnly }, async (request, reply) => {
    if (!config.dev) throw new NotFoundError('Dev-mode endpoint', 'POST /api/admin/dev/poison');
    const { service, refuseAttempts } = parseInput(
      z.object({
        service: z.enum(serviceNames),
        refuseAttempts: z.number().int().min(1).max(1_000_000_000).default(1),
      }),
      request.body,
    );
    return relay(reply, await call(service, 'POST', '/admin/dev/poison', { body: { refuseAttempts } }));
  });
}
