/**
 * The shop processes' log: one JSON object a line (pino) on stdout, which the supervisor writes
 * to DATA_DIR/logs/<process>.log. Each line names its service and process, and inside a span
 * carries `trace_id` and `span_id`, so a log line and its trace find each other. A line about a
 * message adds its ids (`messageId`, `correlationId`) as fields.
 */
import { traceLogFields } from '@causeway/opentelemetry';
import { pino } from 'pino';

export const log = pino({
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  mixin: traceLogFields,
});

/** Names the process on every line from now on: its service and which of the service's processes. */
export function nameLogOf(service: string, process: string): void {
  log.setBindings({ service, process });
}
