import { context, trace } from '@opentelemetry/api';

/**
 * The active span's ids as log fields (`trace_id`, `span_id`, `trace_flags`, the names
 * OpenTelemetry's log data model uses), or none outside a span: a logger's mixin (pino's `mixin`)
 * joins each line to its trace.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}`.slice(-2) };
}
