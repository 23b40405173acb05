import { backoffDelay } from '../messaging/backoff.ts';
import type { SagaInstance, SagaStepRecord } from '../store/index.ts';
import type { SagaCommand, SagaDefinition, SagaStep } from './saga-definition.ts';

export type SagaAction = 'invoke' | 'compensate';

/** A participant's answer to one command of a saga. */
export interface SagaReply {
  sagaId: string;
  step: string;
  action: SagaAction;
  attempt: number;
  outcome: 'succeeded' | 'failed';
  result?: unknown;
  error?: string;
  /** False when retrying cannot help (a declined card): the failure is final at once. */
  retryable?: boolean;
}

/** A command the transition wants sent (through the outbox, in the same transaction). */
export interface OutgoingCommand {
  step: string;
  action: SagaAction;
  attempt: number;
  command: SagaCommand;
}

export interface Transition {
  instance: SagaInstance;
  send: OutgoingCommand[];
  /** False when the input changed nothing (a stale or late reply, a timer that is not due). */
  changed: boolean;
}

type Draft = SagaInstance;

const at = (now: Date, plusMs = 0) => new Date(now.getTime() + plusMs).toISOString();

function clone(instance: SagaInstance): Draft {
  return { ...instance, steps: instance.steps.map((record) => ({ ...record })) };
}

function stepOf<Data>(definition: SagaDefinition<Data>, index: number): SagaStep<Data> {
  return definition.steps[index]!;
}

/** A fresh instance at its first step, and that step's command. */
export function beginSaga<Data>(
  definition: SagaDefinition<Data>,
  options: { sagaId: string; data: Data; correlationId: string; now: Date },
): { instance: Omit<SagaInstance, 'version' | 'createdAt' | 'updatedAt'>; send: OutgoingCommand[] } {
  const draft: Draft = {
    sagaId: options.sagaId,
    sagaName: definition.name,
    status: 'running',
    data: options.data,
    stepIndex: 0,
    steps: definition.steps.map(
      (each): SagaStepRecord => ({
        name: each.name,
        status: 'pending',
        attempts: 0,
        compensationAttempts: 0,
        startedAt: null,
        endedAt: null,
        error: null,
      }),
    ),
    wakeAt: null,
    reason: null,
    correlationId: options.correlationId,
    version: 0,
    createdAt: at(options.now),
    updatedAt: at(options.now),
  };
  const send: OutgoingCommand[] = [];
  invoke(definition, draft, 0, 1, options.now, send);
  const { version: _v, createdAt: _c, updatedAt: _u, ...instance } = draft;
  return { instance, send };
}

function invoke<Data>(
  definition: SagaDefinition<Data>,
  draft: Draft,
  index: number,
  attempt: number,
  now: Date,
  send: OutgoingCommand[],
) {
  const definitionStep = stepOf(definition, index);
  const record = draft.steps[index]!;
  record.status = 'running';
  record.attempts = attempt;
  record.startedAt ??= at(now);
  draft.status = 'running';
  draft.stepIndex = index;
  draft.wakeAt = definitionStep.timeoutMs ? at(now, definitionStep.timeoutMs) : null;
  send.push({
    step: definitionStep.name,
    action: 'invoke',
    attempt,
    command: definitionStep.invoke(draft.data as Data),
  });
}

function compensate<Data>(
  definition: SagaDefinition<Data>,
  draft: Draft,
  index: number,
  attempt: number,
  now: Date,
  send: OutgoingCommand[],
) {
  const definitionStep = stepOf(definition, index);
  const record = draft.steps[index]!;
  record.status = 'compensating';
  record.compensationAttempts = attempt;
  record.compensationStartedAt ??= at(now);
  draft.status = 'compensating';
  draft.stepIndex = index;
  draft.wakeAt = definition.compensationTimeoutMs ? at(now, definition.compensationTimeoutMs) : null;
  send.push({
    step: definitionStep.name,
    action: 'compensate',
    attempt,
    command: definitionStep.compensate!(draft.data as Data),
  });
}

/**
 * Compensates, newest first, every step from `fromIndex` down that succeeded (or, for
 * `alsoIndex`, timed out: it may have acted) and has a compensation; the others are skipped.
 */
function compensateFrom<Data>(
  definition: SagaDefinition<Data>,
  draft: Draft,
  fromIndex: number,
  now: Date,
  send: OutgoingCommand[],
  alsoIndex?: number,
) {
  for (let index = fromIndex; index >= 0; index--) {
    const record = draft.steps[index]!;
    const eligible = record.status === 'succeeded' || index === alsoIndex;
    if (!eligible) continue;
    if (!stepOf(definition, index).compensate) {
      if (record.status === 'succeeded') record.status = 'skipped';
      continue;
    }
    compensate(definition, draft, index, 1, now, send);
    return;
  }
  draft.status = 'compensated';
  draft.wakeAt = null;
}

function retryDelay(policy: { initialMs?: number; maxMs?: number }, attempt: number): number {
  return backoffDelay(attempt, { initialMs: policy.initialMs ?? 200, maxMs: policy.maxMs ?? 30_000 });
}

/** How a step's attempt failed: a reply saying so (retryable or final), or no reply in time. */
type Failure = { kind: 'reply'; error: string; retryable: boolean } | { kind: 'timeout'; error: string };

function failureOf(reply: SagaReply): Failure {
  return { kind: 'reply', error: reply.error ?? 'failed', retryable: reply.retryable !== false };
}

/** The invoke of the current step failed. */
function invokeFailed<Data>(
  definition: SagaDefinition<Data>,
  draft: Draft,
  failure: Failure,
  now: Date,
  send: OutgoingCommand[],
) {
  const index = draft.stepIndex;
  const definitionStep = stepOf(definition, index);
  const record = draft.steps[index]!;
  const { error } = failure;
  const timedOut = failure.kind === 'timeout';
  record.error = error;
  const maxAttempts = definitionStep.retry?.maxAttempts ?? 1;
  const retryable = timedOut ? definitionStep.retry?.retryOnTimeout !== false : failure.retryable;
  if (record.attempts < maxAttempts && retryable) {
    if (timedOut) {
      invoke(definition, draft, index, record.attempts + 1, now, send);
    } else {
      record.status = 'failed';
      draft.wakeAt = at(now, retryDelay(definitionStep.retry ?? {}, record.attempts));
    }
    return;
  }
  record.status = 'failed';
  record.endedAt = at(now);
  const final = failure.kind === 'reply' && !failure.retryable ? ' (not retryable)' : '';
  draft.reason = `step ${definitionStep.name} failed after ${record.attempts} attempt${record.attempts === 1 ? '' : 's'}${final}: ${error}`;
  // A step that timed out may have acted: it is compensated too.
  compensateFrom(definition, draft, timedOut ? index : index - 1, now, send, timedOut ? index : undefined);
}

/**
 * A compensation attempt failed. One that retrying cannot fix goes to the dead letters at once:
 * there it is visible and redrivable once someone has fixed its cause.
 */
function compensationFailed<Data>(
  definition: SagaDefinition<Data>,
  draft: Draft,
  failure: Failure,
  now: Date,
  send: OutgoingCommand[],
) {
  const index = draft.stepIndex;
  const record = draft.steps[index]!;
  const { error } = failure;
  record.error = error;
  const policy = definition.compensationRetry;
  const made = record.compensationAttempts - (record.compensationFloor ?? 0);
  const retryable = failure.kind === 'timeout' || failure.retryable;
  if (made < policy.maxAttempts && retryable) {
    if (failure.kind === 'timeout') {
      compensate(definition, draft, index, record.compensationAttempts + 1, now, send);
    } else {
      record.status = 'failed';
      draft.wakeAt = at(now, retryDelay(policy, made));
    }
    return;
  }
  record.status = 'failed';
  draft.status = 'dead';
  draft.wakeAt = null;
  const final = retryable ? '' : ' (not retryable)';
  draft.reason = `compensation of step ${record.name} failed after ${made} attempt${made === 1 ? '' : 's'}${final}: ${error}`;
}

const unchanged = (instance: SagaInstance): Transition => ({ instance, send: [], changed: false });

/** Applies a participant's reply. Stale, late or repeated replies change nothing. */
export function applyReply<Data>(
  definition: SagaDefinition<Data>,
  instance: SagaInstance,
  reply: SagaReply,
  now: Date,
): Transition {
  const current = instance.steps[instance.stepIndex];
  if (!current || reply.step !== current.name) return unchanged(instance);
  const draft = clone(instance);
  const record = draft.steps[draft.stepIndex]!;
  const send: OutgoingCommand[] = [];
  if (instance.status === 'running' && reply.action === 'invoke') {
    if (reply.outcome === 'succeeded') {
      // Any attempt's success counts: participants apply a step once, whichever command came first.
      if (record.status !== 'running' && record.status !== 'failed') return unchanged(instance);
      record.status = 'succeeded';
      record.endedAt = at(now);
      record.error = null;
      const onSuccess = stepOf(definition, draft.stepIndex).onSuccess;
      if (onSuccess) draft.data = onSuccess(draft.data as Data, reply.result);
      const next = draft.stepIndex + 1;
      if (next < definition.steps.length) invoke(definition, draft, next, 1, now, send);
      else {
        draft.status = 'completed';
        draft.wakeAt = null;
      }
      return { instance: draft, send, changed: true };
    }
    if (record.status !== 'running' || reply.attempt !== record.attempts) return unchanged(instance);
    invokeFailed(definition, draft, failureOf(reply), now, send);
    return { instance: draft, send, changed: true };
  }
  if (instance.status === 'compensating' && reply.action === 'compensate') {
    if (reply.outcome === 'succeeded') {
      if (record.status !== 'compensating' && record.status !== 'failed') return unchanged(instance);
      record.status = 'compensated';
      record.compensationEndedAt = at(now);
      record.error = null;
      compensateFrom(definition, draft, draft.stepIndex - 1, now, send);
      return { instance: draft, send, changed: true };
    }
    if (record.status !== 'compensating' || reply.attempt !== record.compensationAttempts)
      return unchanged(instance);
    compensationFailed(definition, draft, failureOf(reply), now, send);
    return { instance: draft, send, changed: true };
  }
  return unchanged(instance);
}

/** A durable timer came due: a step's timeout (a failure) or a retry's delay (the next attempt). */
export function applyWake<Data>(
  definition: SagaDefinition<Data>,
  instance: SagaInstance,
  now: Date,
): Transition {
  if (!instance.wakeAt || Date.parse(instance.wakeAt) > now.getTime()) return unchanged(instance);
  if (instance.status !== 'running' && instance.status !== 'compensating') return unchanged(instance);
  const draft = clone(instance);
  const record = draft.steps[draft.stepIndex]!;
  const send: OutgoingCommand[] = [];
  if (draft.status === 'running') {
    if (record.status === 'failed')
      invoke(definition, draft, draft.stepIndex, record.attempts + 1, now, send);
    else {
      const timeoutMs = stepOf(definition, draft.stepIndex).timeoutMs;
      const error = `no reply within ${timeoutMs} ms (attempt ${record.attempts})`;
      invokeFailed(definition, draft, { kind: 'timeout', error }, now, send);
    }
  } else if (record.status === 'failed') {
    compensate(definition, draft, draft.stepIndex, record.compensationAttempts + 1, now, send);
  } else {
    const error = `no reply to the compensation within ${definition.compensationTimeoutMs} ms (attempt ${record.compensationAttempts})`;
    compensationFailed(definition, draft, { kind: 'timeout', error }, now, send);
  }
  return { instance: draft, send, changed: true };
}

/** A dead saga tries its failing compensation again, with a fresh round of retries. */
export function applyRedrive<Data>(
  definition: SagaDefinition<Data>,
  instance: SagaInstance,
  now: Date,
): Transition {
  if (instance.status !== 'dead') return unchanged(instance);
  const draft = clone(instance);
  const record = draft.steps[draft.stepIndex]!;
  record.compensationFloor = record.compensationAttempts;
  draft.reason = `redriven: ${instance.reason ?? ''}`;
  const send: OutgoingCommand[] = [];
  compensate(definition, draft, draft.stepIndex, record.compensationAttempts + 1, now, send);
  return { instance: draft, send, changed: true };
}
