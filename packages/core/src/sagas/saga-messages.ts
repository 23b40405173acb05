import { z } from 'zod';
import { defineCommand, newMessageId } from '../message/index.ts';
import type { OutboxMessage } from '../store/index.ts';
import { withTraceContext } from '../tracing/index.ts';
import type { SagaAction, SagaReply } from './saga-machine.ts';

/** The reply type every participant sends back to the orchestrator. */
export const sagaReplyType = 'causeway.SagaReply';

/** The reply's definition: the orchestrator validates every reply against it. */
export const sagaReplyDefinition = defineCommand({
  type: sagaReplyType,
  schema: z.object({
    sagaId: z.string().min(1),
    step: z.string().min(1),
    action: z.enum(['invoke', 'compensate']),
    attempt: z.number().int().positive(),
    outcome: z.enum(['succeeded', 'failed']),
    result: z.unknown().optional(),
    error: z.string().optional(),
    // Absent in replies of older participants: a failure is retryable unless it says otherwise.
    retryable: z.boolean().optional(),
  }),
});

/** What a saga command carries besides its data, in `metadata.saga`. */
export interface SagaCommandMeta {
  sagaId: string;
  sagaName: string;
  step: string;
  action: SagaAction;
  attempt: number;
  /** Where the participant sends its reply. */
  replyTo: string;
  /** saga id + step + action: the same for every attempt, so a participant applies a step once. */
  idempotencyKey: string;
}

export function idempotencyKeyOf(sagaId: string, step: string, action: SagaAction): string {
  return `${sagaId}:${step}:${action}`;
}

/** An envelope as the consumer runtime expects it, keyed by the saga so its messages stay in order. */
function envelope(options: {
  destination: string;
  type: string;
  schemaVersion: number;
  sagaId: string;
  data: unknown;
  correlationId: string;
  causationId: string | null;
  metadata: Record<string, unknown>;
  now: Date;
}): OutboxMessage {
  const id = newMessageId();
  return {
    id,
    destination: options.destination,
    orderingKey: options.sagaId,
    type: options.type,
    payload: {
      id,
      type: options.type,
      schemaVersion: options.schemaVersion,
      streamId: options.sagaId,
      streamPosition: 0,
      globalPosition: 0,
      correlationId: options.correlationId,
      causationId: options.causationId,
      occurredAt: options.now.toISOString(),
      metadata: withTraceContext(options.metadata),
      data: options.data,
    },
  };
}

export function commandMessage(options: {
  meta: Omit<SagaCommandMeta, 'idempotencyKey'>;
  destination: string;
  type: string;
  schemaVersion: number;
  data: unknown;
  correlationId: string;
  now: Date;
}): OutboxMessage {
  const { meta } = options;
  return envelope({
    destination: options.destination,
    type: options.type,
    schemaVersion: options.schemaVersion,
    sagaId: meta.sagaId,
    data: options.data,
    correlationId: options.correlationId,
    causationId: null,
    metadata: { saga: { ...meta, idempotencyKey: idempotencyKeyOf(meta.sagaId, meta.step, meta.action) } },
    now: options.now,
  });
}

export function replyMessage(options: {
  meta: SagaCommandMeta;
  outcome: Pick<SagaReply, 'outcome' | 'result' | 'error' | 'retryable'>;
  correlationId: string;
  causationId: string;
  now: Date;
}): OutboxMessage {
  const { meta } = options;
  const reply: SagaReply = {
    sagaId: meta.sagaId,
    step: meta.step,
    action: meta.action,
    attempt: meta.attempt,
    ...options.outcome,
  };
  return envelope({
    destination: meta.replyTo,
    type: sagaReplyType,
    schemaVersion: sagaReplyDefinition.version,
    sagaId: meta.sagaId,
    data: reply,
    correlationId: options.correlationId,
    causationId: options.causationId,
    metadata: {},
    now: options.now,
  });
}
