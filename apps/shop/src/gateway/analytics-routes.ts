/**
 * The Analytics rows of SHOP-API (the OLAP bridge) under /api: the analytics service answers them,
 * its validation and admin check included; the gateway passes the query string and the caller's
 * Authorization header on as they are.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { authorizationOf } from '../platform/admin-guard.ts';
import type { ServiceAnswer, ServiceClient } from '../platform/service-client.ts';

const reads = [
  '/analytics/sales',
  '/analytics/freshness',
  '/analytics/customers',
  '/analytics/models',
  '/analytics/runs/:id',
  '/analytics/rejected',
  '/analytics/exports',
  '/analytics/lambda',
  '/analytics/reverse-etl',
  '/analytics/quality',
];
const actions = [
  '/analytics/runs',
  '/analytics/replay',
  '/analytics/exports',
  '/analytics/lambda',
  '/analytics/reverse-etl/runs',
  '/analytics/reverse-etl/runs/:id/replay',
];

export function registerAnalyticsRoutes(
  api: FastifyInstance,
  { call, relay }: { call: ServiceClient; relay(reply: FastifyReply, answer: ServiceAnswer): unknown },
): void {
  /** The path as the service knows it: the request's own, without the gateway's /api prefix. */
  const servicePath = (url: string) => url.slice(url.indexOf('/analytics'));
  for (const path of reads) {
    api.get(path, async (request, reply) =>
      relay(
        reply,
        await call('analytics', 'GET', servicePath(request.url), { headers: authorizationOf(request) }),
      ),
    );
  }
  for (const path of actions) {
    api.post(path, async (request, reply) =>
      relay(
        reply,
        await call('analytics', 'POST', servicePath(request.url), {
          headers: authorizationOf(request),
          ...(request.body === undefined ? {} : { body: request.body }),
          // A replay answers once the rebuilt layers are swapped in.
          timeoutMs: 120_000,
        }),
      ),
    );
  }
}
