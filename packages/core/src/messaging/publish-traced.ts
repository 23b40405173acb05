import { inSpanEach, SpanKind, spanAttributes, traceContextOf } from '../tracing/index.ts';
import type { Transport, TransportMessage } from '../transport/index.ts';

/**
 * `transport.publish`, in a span per message continuing the trace its envelope carries: how every
 * relay (the outbox's, the WAL's) shows a publish in each message's own trace.
 */
export function publishTraced(transport: Transport, messages: readonly TransportMessage[]): Promise<void> {
  return inSpanEach(
    messages,
    (message) => ({
      name: `publish ${message.destination}`,
      options: {
        kind: SpanKind.PRODUCER,
        parent: traceContextOf(message.payload),
        attributes: {
          [spanAttributes.operationType]: 'send',
          [spanAttributes.destination]: message.destination,
          [spanAttributes.messageId]: message.id,
          [spanAttributes.batchCount]: messages.length,
          'causeway.message.type': message.type,
        },
      },
    }),
    () => transport.publish(messages),
  );
}
