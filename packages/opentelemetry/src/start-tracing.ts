/**
 * One call that turns tracing on for a process: the OpenTelemetry trace SDK, W3C trace context,
 * async context across awaits, spans exported over OTLP/HTTP in batches, and the latest traces
 * kept in memory (`spansOf`) for the admin dashboard's waterfall. Configured by the
 * standard variables, as any OpenTelemetry SDK is: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `..._TRACES_ENDPOINT`, `..._HEADERS`), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_TRACES_SAMPLER` (+ `_ARG`), `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_SDK_DISABLED`.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { createRecentSpans, type RecordedSpan } from './recent-spans.ts';

export interface TracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names it. */
  serviceName: string;
  /** `service.instance.id`: which process of the service (e.g. `orders-2`). */
  serviceInstanceId?: string;
  /** Where spans go; default OTLP/HTTP to the OTEL_EXPORTER_OTLP_* endpoint (localhost:4318). */
  exporter?: SpanExporter;
  /**
   * How many of the latest traces `spansOf` answers from, whatever the exporter (default 2,000;
   * 0 keeps none). Held in memory: at most 256 spans a trace and 50,000 in all.
   */
  keepRecentTraces?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Tracing {
  /** Sends the spans ended so far. */
  flush(): Promise<void>;
  /** Sends what is left and stops: call on a clean stop, or the last batch is lost. */
  shutdown(): Promise<void>;
  /**
   * The spans of one trace that this process ended lately, earliest first; [] once the trace is
   * out of the `keepRecentTraces` window, for a trace it took no part in, or with keeping off.
   */
  spansOf(traceId: string): RecordedSpan[];
}

/** Null when OTEL_SDK_DISABLED=true: nothing is registered and Causeway starts no span. */
export function startTracing(options: TracingOptions): Tracing | null {
  const env = options.env ?? process.env;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  const resource = resourceFromAttributes({
    'service.name': options.serviceName,
    ...(options.serviceInstanceId ? { 'service.instance.id': options.serviceInstanceId } : {}),
  }).merge(detectResources({ detectors: [envDetector] }));
  const keepRecentTraces = options.keepRecentTraces ?? 2000;
  if (!Number.isInteger(keepRecentTraces) || keepRecentTraces < 0) {
    throw new Error(
      `keepRecentTraces must be a whole number of traces (0 keeps none), got ${keepRecentTraces}`,
    );
  }
  const recent = keepRecentTraces > 0 ? createRecentSpans({ maxTraces: keepRecentTraces }) : null;
  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(env),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: options.exporter ?? new OTLPTraceExporter(),
        scheduledDelayMillis: millisOf(env.OTEL_BSP_SCHEDULE_DELAY, 'OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
      }),
      ...(recent ? [recent] : []),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
    spansOf: (traceId) => recent?.spansOf(traceId) ?? [],
  };
}

/** The sampler the OTEL_TRACES_SAMPLER variable names, as the specification lists them. */
function samplerOf(env: NodeJS.ProcessEnv): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  const ratio = () => {
    const raw = env.OTEL_TRACES_SAMPLER_ARG;
    const value = raw === undefined || raw.trim() === '' ? 1 : Number(raw);
    if (!(value >= 0 && value <= 1)) {
      throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got "${raw}"`);
    }
    return new TraceIdRatioBasedSampler(value);
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      throw new Error(
        `OTEL_TRACES_SAMPLER "${env.OTEL_TRACES_SAMPLER}" is not one Causeway knows: use always_on, always_off, traceidratio or their parentbased_ forms`,
      );
  }
}

function millisOf(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be whole milliseconds, got "${raw}"`);
  return value;
}
