/**
 * The spans this process ended lately, kept in memory by trace id, so an operator's page can draw
 * one trace without a tracing backend. Bounded: the most recently active traces, a cap per trace
 * and a cap on all spans held; what falls out is only forgotten here, never withheld from the exporter.
 */
import { type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

/** One ended span as plain JSON: what a waterfall needs to place it, name it and mark it failed. */
export interface RecordedSpan {
  traceId: string;
  spanId: string;
  /** Null on a root; a parent from another process is named here but not recorded by this one. */
  parentSpanId: string | null;
  name: string;
  kind: 'server' | 'client' | 'producer' | 'consumer' | 'internal';
  /** The `service.name` resource attribute. */
  service: string;
  /** The `service.instance.id` resource attribute, when set. */
  instance: string | null;
  /** ISO 8601, to the millisecond. */
  startTime: string;
  /** Epoch milliseconds, with the sub-millisecond part. */
  startMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage: string | null;
  /** The span's attributes with a string, number or boolean value (arrays are left out). */
  attributes: Record<string, string | number | boolean>;
}

/** A span processor that keeps recent spans by trace id; `spansOf` reads them in start order. */
export interface RecentSpans extends SpanProcessor {
  /** The spans of one trace this process recorded, earliest start first; [] for one it does not hold. */
  spansOf(traceId: string): RecordedSpan[];
}

export interface RecentSpansOptions {
  /** Traces held: when one more starts, the one whose last span ended longest ago goes. */
  maxTraces: number;
  /** Spans held per trace; later ones of a larger trace are not recorded. Default 256. */
  maxSpansPerTrace?: number;
  /** Spans held in all: past it, the least recently active traces go. Default 50,000. */
  maxSpans?: number;
}

const kinds: Record<SpanKind, RecordedSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};
const statuses: Record<SpanStatusCode, RecordedSpan['status']> = {
  [SpanStatusCode.UNSET]: 'unset',
  [SpanStatusCode.OK]: 'ok',
  [SpanStatusCode.ERROR]: 'error',
};

/**
 * A processor to register beside the exporter's: it exports nothing, and records a span as it
 * ends, so `spansOf` sees it at once, before any batch is sent.
 */
export function createRecentSpans(options: RecentSpansOptions): RecentSpans {
  const { maxTraces, maxSpansPerTrace = 256, maxSpans = 50_000 } = options;
  // A Map iterates in insertion order: re-inserting a trace on each span keeps the oldest first.
  const traces = new Map<string, RecordedSpan[]>();
  let held = 0;

  function forgetOldest() {
    const [oldest, spans] = traces.entries().next().value!;
    traces.delete(oldest);
    held -= spans.length;
  }

  return {
    onStart() {},
    onEnd(span) {
      const { traceId } = span.spanContext();
      const spans = traces.get(traceId) ?? [];
      if (spans.length >= maxSpansPerTrace) return;
      spans.push(recordOf(span));
      traces.delete(traceId);
      traces.set(traceId, spans);
      held += 1;
      while (traces.size > maxTraces || (held > maxSpans && traces.size > 1)) forgetOldest();
    },
    spansOf(traceId) {
      return [...(traces.get(traceId) ?? [])].sort((a, b) => a.startMs - b.startMs);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

function recordOf(span: ReadableSpan): RecordedSpan {
  const { traceId, spanId } = span.spanContext();
  const resource = span.resource.attributes;
  const startMs = millisOf(span.startTime);
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: kinds[span.kind] ?? 'internal',
    service: String(resource['service.name'] ?? 'unknown_service'),
    instance: resource['service.instance.id'] === undefined ? null : String(resource['service.instance.id']),
    startTime: new Date(startMs).toISOString(),
    startMs,
    durationMs: millisOf(span.duration),
    status: statuses[span.status.code] ?? 'unset',
    statusMessage: span.status.message || null,
    attributes: Object.fromEntries(
      Object.entries(span.attributes).filter(
        (entry): entry is [string, string | number | boolean] =>
          typeof entry[1] === 'string' || typeof entry[1] === 'number' || typeof entry[1] === 'boolean',
      ),
    ),
  };
}

function millisOf([seconds, nanoseconds]: HrTime): number {
  return seconds * 1000 + nanoseconds / 1e6;
}
