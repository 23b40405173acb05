import type { SagaInstance, SagaStepRecord } from '../store/index.ts';

const isCompensated = (step: SagaStepRecord) => step.compensationAttempts > 0;

/**
 * The step whose failure ended the saga's forward run: the one its reason names ("step x failed
 * after ..."), else the step that failed forward and was not compensated; null if none failed.
 */
export function failingStepIndex(saga: SagaInstance): number | null {
  const named = /(?<!of )\bstep (\S+) failed after/.exec(saga.reason ?? '')?.[1];
  const byName = named ? saga.steps.findIndex((step) => step.name === named) : -1;
  if (byName >= 0) return byName;
  const failed = saga.steps.findIndex((step) => step.status === 'failed' && !isCompensated(step));
  return failed >= 0 ? failed : null;
}

/**
 * Where a saga stands, in a few words for a list: the step it runs, the one it undoes, or for an
 * ended saga how it ended ("failed at processPayment", not the step index it stopped at).
 */
export function sagaStepLabel(saga: SagaInstance): string | null {
  const current = saga.steps[saga.stepIndex]?.name;
  const failing = failingStepIndex(saga);
  const failed = failing === null ? undefined : saga.steps[failing]?.name;
  switch (saga.status) {
    case 'running':
      return current ?? null;
    case 'compensating':
      return current ? `undoing ${current}` : null;
    case 'completed':
      return `all ${saga.steps.length} done`;
    case 'compensated':
      return failed ? `failed at ${failed}` : 'compensated';
    case 'dead':
      return current ? `stuck undoing ${current}` : failed ? `failed at ${failed}` : null;
    default:
      return current ?? null;
  }
}
