/**
 * The HTTP side of a trace: a server span for each request a shop process answers (continuing the
 * caller's `traceparent`), and a client span with the `traceparent` header for each call it
 * makes to another service. Nothing when tracing is off (see `@causeway/opentelemetry`).
 */
import { inSpan, SpanKind, tracingOn } from '@causeway/core';
import { context, propagation, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const tracerName = '@causeway/shop';

/** Polled by supervisors, dashboards and scrapers: a trace each would hide the ones that matter. */
function isPolling(request: FastifyRequest): boolean {
  const { url } = request;
  return (
    request.method === 'GET' &&
    (url === '/metrics' || url.startsWith('/admin/') || url.startsWith('/causeway'))
  );
}

export function traceRequests(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (!tracingOn() || isPolling(request)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url ?? request.url.split('?')[0]!;
    const span = trace.getTracer(tracerName).startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?')[0]!,
        },
      },
      parent,
    );
    spans.set(request, span);
    // The rest of the request (its hooks and handler) runs in the span's context.
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** `send` in a client span, its headers carrying the span's `traceparent`. */
export function tracedCall<T>(
  service: string,
  method: string,
  path: string,
  send: (traceHeaders: Record<string, string>) => Promise<T & { status: number }>,
): Promise<T & { status: number }> {
  return inSpan(
    `${method} ${service}`,
    () => ({
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'url.path': path.split('?')[0]!, 'peer.service': service },
    }),
    async (span) => {
      const headers: Record<string, string> = {};
      if (span) propagation.inject(context.active(), headers);
      const answer = await send(headers);
      span?.setAttribute('http.response.status_code', answer.status);
      return answer;
    },
  );
}
