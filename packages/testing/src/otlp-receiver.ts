/**
 * An OTLP/HTTP trace receiver for tests: listens on loopback, takes what OpenTelemetry's
 * exporters POST to `/v1/traces` (JSON, or gzip'd JSON), and keeps the spans flat, with the
 * service and process each came from. A collector's receiving end, without the collector.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Absent on a trace's root. */
  parentSpanId?: string;
  name: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  /** `service.instance.id`, when the exporter set one. */
  instance?: string;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
  startNs: bigint;
  endNs: bigint;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT: the exporter adds `/v1/traces`. */
  readonly endpoint: string;
  readonly spans: readonly ReceivedSpan[];
  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[];
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

function plainValueOf(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return JSON.stringify(value);
}

function attributesOf(list: readonly OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plainValueOf(value)]));
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      response.writeHead(404).end();
      return;
    }
    if (!String(request.headers['content-type']).startsWith('application/json')) {
      // Protobuf is the other OTLP/HTTP encoding; this receiver reads JSON, the exporter's default.
      response.writeHead(415).end('send OTLP as JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)');
      return;
    }
    try {
      const { resourceSpans = [] } = JSON.parse((await bodyOf(request)).toString('utf8'));
      for (const { resource, scopeSpans = [] } of resourceSpans) {
        const process = attributesOf(resource?.attributes);
        for (const { spans: received = [] } of scopeSpans) {
          for (const span of received) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind,
              service: String(process['service.name']),
              ...(process['service.instance.id'] !== undefined
                ? { instance: String(process['service.instance.id']) }
                : {}),
              attributes: attributesOf(span.attributes),
              links: (span.links ?? []).map((link: { traceId: string; spanId: string }) => ({
                traceId: link.traceId,
                spanId: link.spanId,
              })),
              startNs: BigInt(span.startTimeUnixNano),
              endNs: BigInt(span.endTimeUnixNano),
              status: span.status?.code ?? 0,
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch (error) {
      response.writeHead(400).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    trace: (traceId) => spans.filter((span) => span.traceId === traceId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A trace as text, one span a line in start order under its parent: offset from the trace's
 * start, duration, a bar on a 40-column time axis, the process and the span's name.
 */
export function formatWaterfall(spans: readonly ReceivedSpan[]): string {
  if (spans.length === 0) return '(no spans)';
  const start = spans.reduce((min, span) => (span.startNs < min ? span.startNs : min), spans[0]!.startNs);
  const end = spans.reduce((max, span) => (span.endNs > max ? span.endNs : max), spans[0]!.endNs);
  const total = Number(end - start) || 1;
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId !== undefined && ids.has(span.parentSpanId) ? span.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const ms = (ns: bigint | number) => `${(Number(ns) / 1e6).toFixed(1)} ms`;
  const width = 40;
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    const sorted = [...(children.get(parent) ?? [])].sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    for (const span of sorted) {
      const from = Math.floor((Number(span.startNs - start) / total) * width);
      const length = Math.max(1, Math.round((Number(span.endNs - span.startNs) / total) * width));
      const bar = `${' '.repeat(from)}${'█'.repeat(Math.min(length, width - from))}`.padEnd(width);
      lines.push(
        `${ms(span.startNs - start).padStart(9)} ${ms(span.endNs - span.startNs).padStart(9)} |${bar}| ${'  '.repeat(depth)}${span.instance ?? span.service}: ${span.name}`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
