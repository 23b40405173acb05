/**
 * Tracing end to end in one process, exported over OTLP/HTTP to a receiver: an append, the relay's
 * publish, a consumer's handling and its follow-up form one tree, and the envelope carries the
 * trace context; with no SDK registered nothing is written into the envelope. The process also
 * keeps its recent traces in memory: `spansOf` answers the same tree the receiver got.
 */
import {
  causedBy,
  createConsumer,
  createEventRegistry,
  createEventStore,
  createOutboxRelay,
  defineCommand,
  defineEvent,
  followUp,
  type Message,
} from '@causeway/core';
import type { ReceivedSpan } from '@causeway/testing';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { startTracing, traceLogFields } from './index.ts';
import { openTracedService, until } from './test-support/traced-service.ts';

const registry = createEventRegistry([
  defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ orderId: z.string() }) }),
  defineCommand({ type: 'shipping.PrepareParcel', schema: z.object({ orderId: z.string() }) }),
]);

/** Each span's parent is in the trace, and exactly one span (the root) has none. */
function expectOneTree(spans: readonly ReceivedSpan[]) {
  const ids = new Set(spans.map((span) => span.spanId));
  const roots = spans.filter((span) => span.parentSpanId === undefined);
  expect(roots.map((span) => span.name)).toHaveLength(1);
  for (const span of spans) {
    if (span.parentSpanId !== undefined) expect(ids, `parent of ${span.name}`).toContain(span.parentSpanId);
  }
  return roots[0]!;
}

it('carries one trace from an append through the relay, a consumer and its follow-up, over OTLP', async () => {
  const { transport, store, receiver, close } = await openTracedService('tracing');
  const events = createEventStore({ store, registry });
  const handled: Message[] = [];
  const inventory = createConsumer({
    name: 'inventory',
    store,
    transport,
    destinations: ['orders.events'],
    registry,
    handlers: {
      'orders.OrderPlaced': async (message, { send }) => {
        handled.push(message);
        await send([
          followUp(message, {
            destination: 'shipping.commands',
            type: 'shipping.PrepareParcel',
            data: message.data,
            orderingKey: message.data.orderId,
          }),
        ]);
      },
    },
  });
  const shipping = createConsumer({
    name: 'shipping',
    store,
    transport,
    destinations: ['shipping.commands'],
    registry,
    handlers: {
      'shipping.PrepareParcel': async (message) => {
        handled.push(message);
      },
    },
  });
  const relay = createOutboxRelay({ store, transport, idlePollMs: 20 });
  try {
    await inventory.start();
    await shipping.start();
    relay.start();

    // Untraced: no SDK registered, so nothing is added to the envelope.
    const untraced = await events.appendToStream(
      'order-0',
      [{ type: 'orders.OrderPlaced', data: { orderId: '0' } }],
      {
        publishTo: 'orders.events',
      },
    );
    expect(untraced.events[0]!.metadata).toEqual({});
    await until(() => handled.length === 2, 'the untraced flow');

    const tracing = startTracing({ serviceName: 'orders', serviceInstanceId: 'orders-1' })!;
    let traceId = '';
    await trace.getTracer('test').startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (span) => {
      traceId = span.spanContext().traceId;
      const placed = await events.appendToStream(
        'order-1',
        [{ type: 'orders.OrderPlaced', data: { orderId: '1' } }],
        {
          publishTo: 'orders.events',
          ...causedBy({ id: 'request-1', correlationId: 'flow-1' }),
        },
      );
      expect(String(placed.events[0]!.metadata.traceparent)).toMatch(
        new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
      );
      span.end();
    });
    await until(() => handled.length === 4, 'the traced flow');
    const parcel = handled[3]!;
    expect(String(parcel.metadata.traceparent)).toContain(traceId);
    await tracing.flush();
    await until(() => receiver.trace(traceId).length >= 6, 'the spans to arrive');
    await tracing.shutdown();

    const spans = receiver.trace(traceId);
    const root = expectOneTree(spans);
    expect(root.name).toBe('POST /orders');
    const named = (name: string) => spans.filter((span) => span.name === name);
    const [append] = named('causeway.append');
    expect(append!.parentSpanId).toBe(root.spanId);
    expect(append!.attributes['causeway.stream.id']).toBe('order-1');
    expect(append!.attributes['causeway.correlation_id']).toBe('flow-1');
    const [handling] = named('process orders.events');
    expect(handling!.parentSpanId).toBe(append!.spanId);
    expect(handling!.kind).toBe(5);
    expect(handling!.attributes['messaging.consumer.group.name']).toBe('inventory');
    expect(handling!.attributes['messaging.message.conversation_id']).toBe('flow-1');
    expect(named('publish orders.events')[0]!.parentSpanId).toBe(append!.spanId);
    expect(named('publish shipping.commands')[0]!.parentSpanId).toBe(handling!.spanId);
    expect(named('process shipping.commands')[0]!.parentSpanId).toBe(handling!.spanId);
    expect(new Set(spans.map((span) => `${span.service}/${span.instance}`))).toEqual(
      new Set(['orders/orders-1']),
    );
    // The untraced flow sent nothing.
    expect(receiver.spans.filter((span) => span.attributes['causeway.stream.id'] === 'order-0')).toEqual([]);
  } finally {
    await close(
      () => relay.stop(),
      () => inventory.stop(),
      () => shipping.stop(),
    );
  }
});

it("logs a consumer's retry in the failed message's trace: pino's line carries its trace_id", async () => {
  const { transport, store, close } = await openTracedService('tracing-log');
  const events = createEventStore({ store, registry });
  const tracing = startTracing({ serviceName: 'inventory' })!;
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { base: { service: 'inventory' }, mixin: traceLogFields },
    { write: (line: string) => lines.push(JSON.parse(line)) },
  );
  let failures = 0;
  const consumer = createConsumer({
    name: 'inventory',
    store,
    transport,
    destinations: ['orders.events'],
    registry,
    backoff: { initialMs: 10, maxMs: 10 },
    onRetry: (failure) =>
      log.warn(
        { messageId: failure.messageId, correlationId: failure.correlationId, attempt: failure.attempt },
        `${failure.type} failed: ${failure.reason}`,
      ),
    handlers: {
      'orders.OrderPlaced': async () => {
        if (failures++ === 0) throw new Error('stock table locked');
      },
    },
  });
  const relay = createOutboxRelay({ store, transport, idlePollMs: 20 });
  try {
    await consumer.start();
    relay.start();
    const placed = await events.appendToStream(
      'order-2',
      [{ type: 'orders.OrderPlaced', data: { orderId: '2' } }],
      {
        publishTo: 'orders.events',
        correlationId: 'flow-2',
      },
    );
    const traceId = String(placed.events[0]!.metadata.traceparent).split('-')[1];
    await until(() => failures === 2, 'the retry to succeed');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        service: 'inventory',
        trace_id: traceId,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        messageId: placed.events[0]!.id,
        correlationId: 'flow-2',
        attempt: 1,
        msg: 'orders.OrderPlaced failed: Error: stock table locked',
      }),
    ]);
  } finally {
    await close(
      () => tracing.shutdown(),
      () => relay.stop(),
      () => consumer.stop(),
    );
  }
});

it('keeps the spans of a recent trace in memory: spansOf answers the tree the OTLP receiver got', async () => {
  const { transport, store, receiver, close } = await openTracedService('tracing-recent');
  const events = createEventStore({ store, registry });
  const tracing = startTracing({ serviceName: 'orders', serviceInstanceId: 'orders-1' })!;
  const handled: Message[] = [];
  const consumer = createConsumer({
    name: 'inventory',
    store,
    transport,
    destinations: ['orders.events'],
    registry,
    handlers: {
      'orders.OrderPlaced': async (message) => {
        handled.push(message);
      },
    },
  });
  const relay = createOutboxRelay({ store, transport, idlePollMs: 20 });
  try {
    await consumer.start();
    relay.start();
    let traceId = '';
    await trace.getTracer('test').startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (span) => {
      traceId = span.spanContext().traceId;
      await events.appendToStream('order-3', [{ type: 'orders.OrderPlaced', data: { orderId: '3' } }], {
        publishTo: 'orders.events',
        correlationId: 'flow-3',
      });
      span.end();
    });
    await until(() => handled.length === 1, 'the handling');
    const named = (name: string) => tracing.spansOf(traceId).find((span) => span.name === name);
    await until(() => named('process orders.events') !== undefined, 'the handling span to end');
    await tracing.flush();
    await until(() => receiver.trace(traceId).length === tracing.spansOf(traceId).length, 'the export');

    const recorded = tracing.spansOf(traceId);
    const tree = (spans: ReadonlyArray<{ spanId: string; parentSpanId?: string | null }>) =>
      spans.map((span) => `${span.spanId} < ${span.parentSpanId ?? 'root'}`).sort();
    expect(recorded.length).toBeGreaterThanOrEqual(4);
    expect(tree(recorded)).toEqual(tree(receiver.trace(traceId)));
    expect(recorded.map((span) => span.startMs)).toEqual(recorded.map((span) => span.startMs).sort());
    const root = named('POST /orders')!;
    const append = named('causeway.append')!;
    const handling = named('process orders.events')!;
    expect(root).toMatchObject({
      parentSpanId: null,
      kind: 'server',
      service: 'orders',
      instance: 'orders-1',
    });
    expect(append.parentSpanId).toBe(root.spanId);
    expect(append.attributes['causeway.stream.id']).toBe('order-3');
    expect(handling).toMatchObject({ parentSpanId: append.spanId, kind: 'consumer', status: 'unset' });
    expect(handling.attributes['messaging.consumer.group.name']).toBe('inventory');
    expect(new Date(handling.startTime).getTime()).toBe(Math.floor(handling.startMs));
    expect(handling.durationMs).toBeGreaterThanOrEqual(0);
    // Plain JSON: what an admin API can send as it is.
    expect(JSON.parse(JSON.stringify(recorded))).toEqual(recorded);

    expect(tracing.spansOf('0af7651916cd43dd8448eb211c80319c')).toEqual([]);
    expect(tracing.spansOf('not a trace id')).toEqual([]);
  } finally {
    await close(
      () => tracing.shutdown(),
      () => relay.stop(),
      () => consumer.stop(),
    );
  }
});

it('keeps only the latest keepRecentTraces traces, marks a failed span, and keeps none at 0', async () => {
  expect(() => startTracing({ serviceName: 'orders', keepRecentTraces: -1 })).toThrow(/keepRecentTraces/);
  const tracer = () => trace.getTracer('test');
  const endOne = (name: string) => {
    const span = tracer().startSpan(name, { attributes: { 'order.id': name, skus: ['tea', 'mugs'] } });
    if (name === 'failing') span.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    span.end();
    return span.spanContext().traceId;
  };

  const keeping = startTracing({
    serviceName: 'orders',
    keepRecentTraces: 2,
    exporter: new InMemorySpanExporter(),
  })!;
  try {
    const [first, second, third] = [endOne('first'), endOne('second'), endOne('failing')];
    expect(keeping.spansOf(first)).toEqual([]);
    expect(keeping.spansOf(second).map((span) => span.name)).toEqual(['second']);
    expect(keeping.spansOf(third)).toEqual([
      expect.objectContaining({
        status: 'error',
        statusMessage: 'card declined',
        kind: 'internal',
        instance: null,
        attributes: { 'order.id': 'failing' },
      }),
    ]);
  } finally {
    await keeping.shutdown();
  }

  // A shut-down in-memory exporter takes no more spans: this provider gets its own.
  const exporter = new InMemorySpanExporter();
  const forgetting = startTracing({ serviceName: 'orders', keepRecentTraces: 0, exporter })!;
  try {
    const traceId = endOne('unkept');
    await forgetting.flush();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toContain('unkept');
    expect(forgetting.spansOf(traceId)).toEqual([]);
  } finally {
    await forgetting.shutdown();
  }
});
