/**
 * The `traces` view: one trace's spans as the service's own process kept them in memory, for the
 * dashboard's waterfall. No tracing backend is asked, so it shows what this process took part in,
 * while the trace is among the recent ones it keeps.
 */

/**
 * One ended span, as plain JSON. The shape of `@causeway/opentelemetry`'s `RecordedSpan`, declared
 * here so the admin package needs no OpenTelemetry.
 */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  /** Null on a root; a parent recorded by another process is named but not among the spans. */
  parentSpanId: string | null;
  name: string;
  kind: 'server' | 'client' | 'producer' | 'consumer' | 'internal';
  /** `service.name`. */
  service: string;
  /** `service.instance.id`, when set. */
  instance: string | null;
  /** ISO 8601. */
  startTime: string;
  /** Epoch milliseconds, fractional. */
  startMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage: string | null;
  attributes: Readonly<Record<string, string | number | boolean>>;
}

/** Where a trace's spans come from: the `Tracing` that `startTracing(...)` returns fits as it is. */
export interface TraceSource {
  spansOf(traceId: string): readonly TraceSpan[];
}

/** `GET <base>/api/traces/<traceId>`; `recorded` is false when the service gave no source of spans. */
export interface TraceView {
  traceId: string;
  recorded: boolean;
  /** Earliest start first. */
  spans: TraceSpan[];
}

/** A W3C trace id as spans and `traceparent` carry it: 32 lowercase hex digits. */
export function isTraceId(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}

/** One trace's spans from `source`, earliest start first; none, and `recorded: false`, without one. */
export function traceView(traceId: string, source: TraceSource | undefined): TraceView {
  if (!source) return { traceId, recorded: false, spans: [] };
  const spans = [...source.spansOf(traceId)].sort((a, b) => a.startMs - b.startMs);
  return { traceId, recorded: true, spans };
}
