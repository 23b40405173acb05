export {
  inSpan,
  inSpanEach,
  inSpanNow,
  linkTo,
  SpanKind,
  type SpanOptions,
  spanAttributes,
  traceContextOf,
  tracingOn,
  withTraceContext,
} from './tracing.ts';
