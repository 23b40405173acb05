/**
 * A flow's timeline names the trace each entry was recorded in: an event's `traceparent`, a saga's
 * stored trace context; an entry with none, or with a malformed one, has no `traceId` at all.
 */
import { expect, it } from 'vitest';
import type { SagaInstance, StoredEvent } from '../store/index.ts';
import { type FlowSource, flowTimeline } from './flow-timeline.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = (id: string) => `00-${id}-00f067aa0ba902b8-01`;

const event = (id: string, metadata: Record<string, string>): StoredEvent => ({
  id: id as StoredEvent['id'],
  type: 'orders.OrderPlaced',
  schemaVersion: 1,
  streamId: `order-${id}`,
  streamPosition: 1,
  globalPosition: 1,
  correlationId: 'flow-1',
  causationId: null,
  occurredAt: `2026-01-01T00:00:0${id}.000Z`,
  metadata,
  data: {},
});

const saga: SagaInstance = {
  sagaId: 'order-1',
  sagaName: 'PlaceOrder',
  status: 'completed',
  data: {},
  stepIndex: 1,
  steps: [
    {
      name: 'reserveStock',
      status: 'succeeded',
      attempts: 1,
      compensationAttempts: 0,
      startedAt: '2026-01-01T00:00:05.000Z',
      endedAt: '2026-01-01T00:00:06.000Z',
      error: null,
    },
  ],
  wakeAt: null,
  reason: null,
  correlationId: 'flow-1',
  traceContext: { traceparent: traceparent(traceId) },
  version: 3,
  createdAt: '2026-01-01T00:00:05.000Z',
  updatedAt: '2026-01-01T00:00:06.000Z',
};

function sourceOf(events: StoredEvent[], sagas: SagaInstance[]): FlowSource {
  const store = {
    events: { readByCorrelation: async () => events },
    sagas: { list: async () => sagas },
  };
  return { service: 'orders', store: store as unknown as FlowSource['store'] };
}

it('names the trace of each traced event and saga step, and leaves the untraced ones without one', async () => {
  const timeline = await flowTimeline('flow-1', [
    sourceOf(
      [
        event('1', { traceparent: traceparent(traceId) }),
        event('2', {}),
        event('3', { traceparent: 'not-a-traceparent' }),
        event('4', { traceparent: traceparent('0'.repeat(32)) }),
      ],
      [saga, { ...saga, sagaId: 'order-2', traceContext: undefined }],
    ),
  ]);
  expect(timeline.map((entry) => [entry.kind === 'event' ? entry.id : entry.sagaId, entry.traceId])).toEqual([
    ['1', traceId],
    ['2', undefined],
    ['3', undefined],
    ['4', undefined],
    ['order-1', traceId],
    ['order-2', undefined],
  ]);
  expect(timeline[1]).not.toHaveProperty('traceId');
  expect(timeline[5]).not.toHaveProperty('traceId');
});
