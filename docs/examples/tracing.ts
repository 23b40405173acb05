import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventRegistry, createEventStore, defineEvent } from '@causeway/core';
import { startTracing } from '@causeway/opentelemetry';
import { createSqliteStore } from '@causeway/sqlite';
import { startOtlpReceiver } from '@causeway/testing';
import { z } from 'zod';

// Stands in for an OpenTelemetry Collector, Jaeger or Tempo listening on OTLP/HTTP.
const collector = await startOtlpReceiver();
process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.endpoint;
const directory = mkdtempSync(join(tmpdir(), 'causeway-tracing-example-'));

// #region tracing
// First in the process: whatever starts after it is traced. OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and the other standard variables configure it.
const tracing = startTracing({ serviceName: 'orders', serviceInstanceId: 'orders-1' });

const registry = createEventRegistry([
  defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ orderId: z.string() }) }),
]);
const store = await createSqliteStore({ filename: join(directory, 'orders.db') });
const events = createEventStore({ store, registry });
// The append is a span, and the event carries it: whoever handles the event continues the trace.
const { events: appended } = await events.appendToStream('order-1', [
  { type: 'orders.OrderPlaced', data: { orderId: '1' } },
]);
console.log(appended[0]!.metadata.traceparent !== undefined);

// On a clean stop: sends the spans still buffered.
await tracing?.shutdown();
// #endregion
console.log(collector.spans.map((span) => `${span.service}: ${span.name}`));
await store.close();
await collector.close();
delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
