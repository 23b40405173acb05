/**
 * A saga step its timer fires runs long after the request that started the saga has ended, in no
 * span of its own: it must continue that request's trace, kept with the saga in its store.
 */
import {
  command,
  createConsumer,
  createEventRegistry,
  createOutboxRelay,
  createSagaOrchestrator,
  defineCommand,
  defineSaga,
  type Message,
  step,
} from '@causeway/core';
import { SpanKind, trace } from '@opentelemetry/api';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { startTracing } from './index.ts';
import { openTracedService, until } from './test-support/traced-service.ts';

const payment = z.object({ orderId: z.string() });
const Charge = defineCommand({ type: 'payments.Charge', schema: payment });
const Refund = defineCommand({ type: 'payments.Refund', schema: payment });
const registry = createEventRegistry([Charge, Refund]);

const checkout = defineSaga<{ orderId: string }>('checkout', [
  step('charge', {
    invoke: (data) => command('payments.commands', Charge, data),
    compensate: (data) => command('payments.commands', Refund, data),
    timeoutMs: 1_000,
  }),
]);

const traceIdOf = (message: Message) => String(message.metadata.traceparent).split('-')[1];

it("continues the starting request's trace when a step's timeout fires, after the request has ended", async () => {
  const { transport, store, receiver, close } = await openTracedService('saga-timer-trace');
  let now = new Date('2026-12-07T10:00:00Z');
  const orchestrator = createSagaOrchestrator({
    store,
    transport,
    sagas: [checkout],
    replyTo: 'orders.saga-replies',
    clock: () => now,
  });
  // The participant takes the commands and never answers: the step times out.
  const received: Message[] = [];
  const payments = createConsumer({
    name: 'payments',
    store,
    transport,
    destinations: ['payments.commands'],
    registry,
    handlers: {
      'payments.Charge': async (message) => {
        received.push(message);
      },
      'payments.Refund': async (message) => {
        received.push(message);
      },
    },
  });
  const relay = createOutboxRelay({ store, transport, idlePollMs: 20 });
  const tracing = startTracing({ serviceName: 'orders', serviceInstanceId: 'orders-1' })!;
  try {
    await payments.start();
    relay.start();
    let traceId = '';
    let requestSpanId = '';
    const sagaId = await trace
      .getTracer('test')
      .startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (span) => {
        traceId = span.spanContext().traceId;
        requestSpanId = span.spanContext().spanId;
        const started = await orchestrator.startSaga(checkout, { orderId: 'o-1' });
        span.end();
        return started.sagaId;
      });
    // Kept in the store beside the saga, so another process (or this one restarted) finds it.
    expect((await orchestrator.get(sagaId))!.traceContext?.traceparent).toContain(traceId);
    await until(() => received.length === 1, 'the charge');

    now = new Date(now.getTime() + 2_000);
    expect(await orchestrator.fireDueTimers()).toBe(1);
    await until(() => received.length === 2, 'the refund');
    const [charge, refund] = received;
    expect(charge!.type).toBe('payments.Charge');
    expect(refund!.type).toBe('payments.Refund');
    expect(traceIdOf(refund!)).toBe(traceId);
    expect((await orchestrator.get(sagaId))!.status).toBe('compensating');

    await tracing.flush();
    const named = (name: string) => receiver.trace(traceId).filter((span) => span.name === name);
    await until(() => named('process payments.commands').length === 2, 'the spans to arrive');
    const [timer] = named('saga checkout timer');
    expect(timer!.parentSpanId).toBe(requestSpanId);
    expect(timer!.attributes['causeway.saga.id']).toBe(sagaId);
    expect(named('saga checkout compensate charge')[0]!.parentSpanId).toBe(timer!.spanId);
  } finally {
    await close(
      () => tracing.shutdown(),
      () => relay.stop(),
      () => payments.stop(),
    );
  }
});
