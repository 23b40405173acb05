/**
 * Delay before retry `attempt` (1-based): exponential from `initialMs`, capped at `maxMs`, with
 * full jitter so that many consumers failing together do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  options: { initialMs: number; maxMs: number },
  random = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
