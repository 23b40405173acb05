export type { RecordedSpan } from './recent-spans.ts';
export { startTracing, type Tracing, type TracingOptions } from './start-tracing.ts';
export { traceLogFields } from './trace-log-fields.ts';
