/**
 * Spans through the OpenTelemetry API, and the W3C trace context in each envelope's
 * `metadata.traceparent`. Core never starts an SDK: with none registered (the default) every
 * helper here returns at its first line, so untraced services pay one property read per call.
 * An application registers one (`@causeway/opentelemetry`, or its own) to turn tracing on.
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { type Metadata, metadataKeys } from '../message/message.ts';

export { SpanKind };

const noopProvider = new ProxyTracerProvider().getDelegate();

/** Whether an OpenTelemetry SDK is registered: else no span is started and no context is written. */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== noopProvider;
}

/**
 * `metadata` with the active span's `traceparent` (and `tracestate`), so whoever handles the
 * message continues the trace. Kept as it is when tracing is off or it already carries one (a
 * message built elsewhere and forwarded keeps its origin).
 */
export function withTraceContext(metadata: Metadata): Metadata {
  if (metadata[metadataKeys.traceparent] !== undefined) return metadata;
  const carrier = activeTraceContext();
  return carrier === undefined ? metadata : { ...metadata, ...carrier };
}

/** The active span's W3C trace context (`traceparent`, `tracestate`) to keep, or none when untraced. */
export function activeTraceContext(): Record<string, string> | undefined {
  if (!tracingOn()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** The trace context a message was created in (from its envelope's metadata), or none. */
export function traceContextOf(envelope: unknown): Context {
  const metadata = (envelope as { metadata?: unknown } | null)?.metadata;
  if (typeof metadata !== 'object' || metadata === null) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, metadata as Record<string, unknown>, {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => {
      const value = carrier[key];
      return typeof value === 'string' ? value : undefined;
    },
  });
}

/** Runs `work` in the trace a message was created in (a log line it writes joins that trace). */
export function inTraceOf<T>(envelope: unknown, work: () => T): T {
  return tracingOn() ? context.with(traceContextOf(envelope), work) : work();
}

/** A link to the span a message was created in: how a batch span names the messages it took. */
export function linkTo(envelope: unknown): Link | null {
  const spanContext = trace.getSpanContext(traceContextOf(envelope));
  return spanContext ? { context: spanContext } : null;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default the active context. `ROOT_CONTEXT` starts a new trace. */
  parent?: Context;
  links?: Link[];
}

/** Options are a function on hot paths: with tracing off they are never built. */
type SpanOptionsOf = SpanOptions | (() => SpanOptions);

function startSpan(name: string, optionsOf: SpanOptionsOf): { span: Span; active: Context } {
  const options = typeof optionsOf === 'function' ? optionsOf() : optionsOf;
  const parent = options.parent ?? context.active();
  // Asked for each span, not once: a tracer taken before the SDK registered stays a no-op when
  // the SDK registers through another copy of the API package.
  const span = trace.getTracer('@causeway/core').startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
  );
  return { span, active: trace.setSpan(parent, span) };
}

function markFailed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `work` in a span, active while it runs (what it appends or sends carries it). A throw
 * marks the span failed with the error and is rethrown. With tracing off, just runs `work`.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptionsOf,
  work: (span?: Span) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work();
  const { span, active } = startSpan(name, options);
  return context.with(active, async () => {
    try {
      return await work(span);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `inSpan` for work that does not wait: e.g. building a message in the span it should carry. */
export function inSpanNow<T>(name: string, options: SpanOptionsOf, work: () => T): T {
  if (!tracingOn()) return work();
  const { span, active } = startSpan(name, options);
  try {
    return context.with(active, work);
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs `work` once for several messages, in one span per message, each the child of the span its
 * message was created in: a batch published at once still shows in each message's own trace.
 */
export async function inSpanEach<T, M>(
  messages: readonly M[],
  spanOf: (message: M) => { name: string; options: SpanOptions },
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work();
  const spans = messages.map((message) => {
    const { name, options } = spanOf(message);
    return startSpan(name, options).span;
  });
  try {
    return await work();
  } catch (error) {
    for (const span of spans) markFailed(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/** Attribute names Causeway sets besides OpenTelemetry's messaging conventions. */
export const spanAttributes = {
  messagingSystem: 'messaging.system',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  batchCount: 'messaging.batch.message_count',
  consumerGroup: 'messaging.consumer.group.name',
  streamId: 'causeway.stream.id',
  correlationId: 'causeway.correlation_id',
  sagaId: 'causeway.saga.id',
  sagaName: 'causeway.saga.name',
  sagaStep: 'causeway.saga.step',
  sagaAction: 'causeway.saga.action',
  attempt: 'causeway.attempt',
  projection: 'causeway.projection',
} as const;
