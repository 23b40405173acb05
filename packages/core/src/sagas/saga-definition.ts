import type { z } from 'zod';
import { InvalidArgumentError } from '../errors/index.ts';
import type { AnyEventDefinition, DataOf } from '../message/index.ts';

/** A command a saga step sends to a participant: where, what, and its data. */
export interface SagaCommand {
  readonly destination: string;
  readonly type: string;
  /** The definition's version, so the participant upcasts an older command correctly. */
  readonly schemaVersion: number;
  readonly data: unknown;
}

/**
 * The command a step sends: to `destination`, of the type `definition` declares, with data of its
 * shape (checked by the compiler here, and validated by the participant's consumer on arrival).
 */
export function command<Definition extends AnyEventDefinition>(
  destination: string,
  definition: Definition,
  data: DataOf<Definition>,
): SagaCommand {
  return { destination, type: definition.type, schemaVersion: definition.version, data };
}

/** Exponential backoff with jitter between attempts. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  readonly maxAttempts: number;
  readonly initialMs?: number;
  readonly maxMs?: number;
  /**
   * Whether a timeout is retried like a failure reply (default true). False when the timeout is a
   * deadline for the whole step: a caller that never answers is not asked again.
   */
  readonly retryOnTimeout?: boolean;
}

export interface StepOptions<Data> {
  /** The command that performs the step. */
  readonly invoke: (data: Data) => SagaCommand;
  /** The command that undoes it; sent in reverse order when a later step fails. */
  readonly compensate?: (data: Data) => SagaCommand;
  /** Folds a successful reply's result into the saga's data (e.g. a payment id for the refund). */
  readonly onSuccess?: (data: Data, result: unknown) => Data;
  /** Retries of a failed invoke before the saga compensates (default: no retry). */
  readonly retry?: RetryPolicy;
  /** No reply within this time is a failure; the step is then compensated too, in case it acted. */
  readonly timeoutMs?: number;
}

export interface SagaStep<Data> extends StepOptions<Data> {
  readonly name: string;
}

export function step<Data>(name: string, options: StepOptions<Data>): SagaStep<Data> {
  return { name, ...options };
}

export interface SagaDefinition<Data> {
  readonly name: string;
  readonly steps: readonly SagaStep<Data>[];
  /** Validates the data a saga starts with: invalid data is refused and nothing is stored. */
  readonly schema?: z.ZodType<Data>;
  /** Retries of a failing compensation before the saga goes to the dead-letter queue. */
  readonly compensationRetry: Required<RetryPolicy>;
  /** How long a compensation may go unanswered before it counts as failed. */
  readonly compensationTimeoutMs?: number;
}

const namePattern = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const defaultCompensationRetry: Required<RetryPolicy> = {
  maxAttempts: 5,
  initialMs: 200,
  maxMs: 30_000,
  retryOnTimeout: true,
};

function checkRetry(where: string, retry: RetryPolicy | undefined): void {
  if (!retry) return;
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    throw new InvalidArgumentError(
      'retry.maxAttempts',
      `${where}: retry.maxAttempts must be an integer >= 1, got ${retry.maxAttempts}`,
    );
  }
}

/**
 * A saga: steps run in order, each by a command to a participant and its reply; when one fails
 * (after its retries) or times out, the steps that completed are compensated in reverse order.
 * Options objects, not overloads: every step says what it does, undoes, retries and waits for.
 */
export function defineSaga<Data>(
  name: string,
  steps: readonly SagaStep<Data>[],
  options: {
    schema?: z.ZodType<Data>;
    compensationRetry?: RetryPolicy;
    compensationTimeoutMs?: number;
  } = {},
): SagaDefinition<Data> {
  if (!namePattern.test(name)) {
    throw new InvalidArgumentError(
      'name',
      `Saga name "${name}" must start with a letter and use letters, digits, _ . -`,
    );
  }
  if (steps.length === 0) throw new InvalidArgumentError('steps', `Saga ${name} needs at least one step`);
  const seen = new Set<string>();
  for (const each of steps) {
    if (!namePattern.test(each.name)) {
      throw new InvalidArgumentError(
        'steps',
        `Saga ${name}: step name "${each.name}" must start with a letter and use letters, digits, _ . -`,
      );
    }
    if (seen.has(each.name))
      throw new InvalidArgumentError('steps', `Saga ${name}: step "${each.name}" appears twice`);
    seen.add(each.name);
    checkRetry(`Saga ${name}, step ${each.name}`, each.retry);
    if (each.timeoutMs !== undefined && !(each.timeoutMs > 0)) {
      throw new InvalidArgumentError('timeoutMs', `Saga ${name}, step ${each.name}: timeoutMs must be > 0`);
    }
  }
  checkRetry(`Saga ${name} compensation`, options.compensationRetry);
  return {
    name,
    steps,
    ...(options.schema ? { schema: options.schema } : {}),
    compensationRetry: { ...defaultCompensationRetry, ...options.compensationRetry },
    ...(options.compensationTimeoutMs ? { compensationTimeoutMs: options.compensationTimeoutMs } : {}),
  };
}
