export {
  activeTraceContext,
  inSpan,
  inSpanEach,
  inSpanNow,
  inTraceOf,
  linkTo,
  SpanKind,
  type SpanOptions,
  spanAttributes,
  traceContextOf,
  tracingOn,
  withTraceContext,
} from './tracing.ts';
