/**
 * A saga instance as the dashboard draws it: the forward steps in order, and the compensations in
 * the order they ran (reverse), each with status, attempts, start, end, duration and error.
 *
 * The stored step record keeps one end time, which a compensation overwrites, and no start for
 * the compensation; both follow from how the saga machine moves: a step
 * succeeds at the instant the next one is invoked, and each compensation starts at the instant
 * the failure, or the compensation before it, ended.
 */
import { failingStepIndex, type SagaInstance, type SagaStepRecord } from '@causeway/core';

export interface DiagramBox {
  /** The step's name, or its compensation's (e.g. `releaseInventory`). */
  name: string;
  step: string;
  /** Position of the step in the saga (the column it is drawn in). */
  index: number;
  status: string;
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

export interface SagaDiagram {
  sagaId: string;
  sagaName: string;
  status: SagaInstance['status'];
  reason: string | null;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  forward: DiagramBox[];
  compensations: DiagramBox[];
  /** The step whose failure started the compensations, if any. */
  failedStep: string | null;
}

const isCompensated = (step: SagaStepRecord) => step.compensationAttempts > 0;
const millisBetween = (start: string | null, end: string | null) =>
  start && end ? Math.max(0, Date.parse(end) - Date.parse(start)) : null;

/** The error text of the reason ("step x failed after 1 attempt: <error>"). */
const reasonError = (reason: string | null) =>
  /failed after \d+ attempts?(?: \(not retryable\))?: (.*)$/.exec(reason ?? '')?.[1] ?? null;

export function sagaDiagram(
  saga: SagaInstance,
  compensationNames: Readonly<Record<string, string>>,
): SagaDiagram {
  const failed = failingStepIndex(saga);
  const order = saga.steps
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => isCompensated(step))
    .sort((a, b) => b.index - a.index);

  // The failure's instant: the failed step's end, unless its compensation overwrote it (a timeout).
  const failedRecord = failed === null ? undefined : saga.steps[failed];
  let boundary = failedRecord && !isCompensated(failedRecord) ? failedRecord.endedAt : null;
  const compensationStart = new Map<number, string | null>();
  const compensations = order.map(({ step, index }): DiagramBox => {
    // Records written before compensations kept their own times: derived from their neighbours.
    const startedAt = step.compensationStartedAt ?? boundary;
    const endedAt =
      step.status === 'compensated'
        ? (step.compensationEndedAt ?? (step.compensationStartedAt ? null : step.endedAt))
        : null;
    compensationStart.set(index, startedAt);
    boundary = endedAt;
    return {
      name: compensationNames[step.name] ?? `compensate ${step.name}`,
      step: step.name,
      index,
      status: step.status,
      attempts: step.compensationAttempts,
      startedAt,
      endedAt,
      durationMs: millisBetween(startedAt, endedAt),
      error: step.status === 'compensated' ? null : step.error,
    };
  });

  const forward = saga.steps.map((step, index): DiagramBox => {
    const isFailing = index === failed;
    if (!isCompensated(step)) {
      return {
        name: step.name,
        step: step.name,
        index,
        status: step.status,
        attempts: step.attempts,
        startedAt: step.startedAt,
        endedAt: step.endedAt,
        durationMs: millisBetween(step.startedAt, step.endedAt),
        error: step.error ?? (isFailing ? reasonError(saga.reason) : null),
      };
    }
    const endedAt = step.compensationStartedAt
      ? step.endedAt
      : isFailing
        ? (compensationStart.get(index) ?? null)
        : (saga.steps[index + 1]?.startedAt ?? null);
    return {
      name: step.name,
      step: step.name,
      index,
      status: isFailing ? 'failed' : 'succeeded',
      attempts: step.attempts,
      startedAt: step.startedAt,
      endedAt,
      durationMs: millisBetween(step.startedAt, endedAt),
      error: isFailing ? reasonError(saga.reason) : null,
    };
  });

  return {
    sagaId: saga.sagaId,
    sagaName: saga.sagaName,
    status: saga.status,
    reason: saga.reason,
    correlationId: saga.correlationId,
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
    forward,
    compensations,
    failedStep: failed === null ? null : (saga.steps[failed]?.name ?? null),
  };
}
