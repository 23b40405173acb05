import type { Message } from '../message/index.ts';
import { newMessageId } from '../message/index.ts';
import type { OutboxMessage } from '../store/index.ts';
import { withTraceContext } from '../tracing/index.ts';

/** The trace of a message: one correlation id for the whole flow, the message that caused this one. */
export interface Causation {
  correlationId: string;
  causationId: string;
}

/**
 * What a handler reacting to `message` stamps on what it emits, so one flow across services can
 * be followed: the flow's correlation id (the first message's id if it had none) and `message` as
 * the cause. Spread it into `appendToStream` options or pass it to `followUp`.
 */
export function causedBy(message: Pick<Message, 'id' | 'correlationId'>): Causation {
  return { correlationId: message.correlationId ?? message.id, causationId: message.id };
}

/**
 * A message emitted in reaction to `cause` (choreography): an envelope carrying the flow's
 * correlation id and `cause` as its causation, for `context.send` in the same transaction as the
 * handler's effects, so it is published only if they commit.
 */
export function followUp(
  cause: Pick<Message, 'id' | 'correlationId'>,
  options: {
    destination: string;
    type: string;
    data: unknown;
    orderingKey: string;
    metadata?: Record<string, unknown>;
  },
): OutboxMessage {
  const id = newMessageId();
  const trace = causedBy(cause);
  return {
    id,
    destination: options.destination,
    orderingKey: options.orderingKey,
    type: options.type,
    payload: {
      id,
      type: options.type,
      schemaVersion: 1,
      streamId: options.orderingKey,
      streamPosition: 0,
      globalPosition: 0,
      ...trace,
      occurredAt: new Date().toISOString(),
      metadata: withTraceContext(options.metadata ?? {}),
      data: options.data,
    },
  };
}
