/**
 * What the supervisor does when a child exits on its own: restart it after a backoff, or give up
 * on the whole shop because the child cannot start at all. Pure: the supervisor passes the
 * timings in and keeps the history this returns.
 */
import { backoffDelay } from '@causeway/core';

export interface RestartPolicy {
  /** Delay before the first restart; doubles with each crash in a row... */
  initialMs: number;
  /** ...up to this. */
  maxMs: number;
  /** A child that stayed up this long starts again from `initialMs` when it crashes. */
  resetAfterMs: number;
}

/**
 * A child that was healthy for 3 s and then died (killed, out of memory) is not crash-looping:
 * it comes back after the initial delay. Only deaths in a row before that back off further.
 */
export const defaultRestartPolicy: RestartPolicy = { initialMs: 250, maxMs: 10_000, resetAfterMs: 3_000 };

/**
 * When a service that never became healthy is taken for broken rather than slow: it exited
 * `maxEarlyExits` times in a row, each time within `earlyExitMs` of being spawned. Restarting it
 * forever would only repeat its error; stopping says it once.
 */
export interface CrashLoopPolicy {
  maxEarlyExits: number;
  earlyExitMs: number;
}

/**
 * Three exits in a row, each within a minute of the spawn. Not a few seconds: eight children
 * compiling their TypeScript at once on a busy machine take 5 to 20 s to reach their first line
 * (measured), and a window shorter than that would turn a crash loop back into a restart loop.
 */
export const defaultCrashLoopPolicy: CrashLoopPolicy = { maxEarlyExits: 3, earlyExitMs: 60_000 };

/** What the supervisor remembers of one service across its incarnations. */
export interface ServiceHistory {
  /** Exits in a row since an incarnation last stayed up `resetAfterMs`: drives the backoff. */
  crashesInARow: number;
  /** Exits in a row that came within `earlyExitMs` of their spawn, while the service was never up. */
  earlyExitsInARow: number;
  /** Some incarnation answered its health check: from then on the service is only ever restarted. */
  wasEverUp: boolean;
}

export const freshHistory: ServiceHistory = { crashesInARow: 0, earlyExitsInARow: 0, wasEverUp: false };

/** One incarnation's life, in Date.now() milliseconds; `upAt` is unset when it never answered health. */
export interface IncarnationTimes {
  startedAt: number;
  upAt: number | undefined;
  exitedAt: number;
}

export type ExitDecision =
  | { action: 'restart'; delayMs: number; history: ServiceHistory }
  | { action: 'give-up'; history: ServiceHistory };

export interface ExitPolicies {
  restart: RestartPolicy;
  crashLoop: CrashLoopPolicy;
  /** Jitter source for the backoff; `() => 1` makes the delays exact. */
  random?: () => number;
}

/**
 * Restart with a backoff that grows with the crashes in a row (and starts over after a long
 * enough life), unless this exit completes a crash loop of a service that was never healthy.
 */
export function decideAfterExit(
  history: ServiceHistory,
  times: IncarnationTimes,
  policies: ExitPolicies,
): ExitDecision {
  const wasEverUp = history.wasEverUp || times.upAt !== undefined;
  const stayedUpMs = times.upAt === undefined ? 0 : times.exitedAt - times.upAt;
  const crashesInARow = (stayedUpMs >= policies.restart.resetAfterMs ? 0 : history.crashesInARow) + 1;
  const isEarly = !wasEverUp && times.exitedAt - times.startedAt < policies.crashLoop.earlyExitMs;
  const earlyExitsInARow = isEarly ? history.earlyExitsInARow + 1 : 0;
  const next: ServiceHistory = { crashesInARow, earlyExitsInARow, wasEverUp };
  if (earlyExitsInARow >= policies.crashLoop.maxEarlyExits) return { action: 'give-up', history: next };
  return {
    action: 'restart',
    delayMs: backoffDelay(crashesInARow, policies.restart, policies.random),
    history: next,
  };
}
