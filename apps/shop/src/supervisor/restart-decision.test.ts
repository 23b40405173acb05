import { describe, expect, it } from 'vitest';
import {
  decideAfterExit,
  type ExitDecision,
  type ExitPolicies,
  freshHistory,
  type IncarnationTimes,
  type ServiceHistory,
} from './restart-decision.ts';

const policies: ExitPolicies = {
  restart: { initialMs: 100, maxMs: 1_000, resetAfterMs: 3_000 },
  crashLoop: { maxEarlyExits: 3, earlyExitMs: 10_000 },
  random: () => 1, // no jitter: exact delays
};

/** An incarnation that lived `ranMs` and, when `upAfterMs` is given, answered health that soon. */
function life(ranMs: number, upAfterMs?: number): IncarnationTimes {
  const startedAt = 1_000_000;
  return {
    startedAt,
    upAt: upAfterMs === undefined ? undefined : startedAt + upAfterMs,
    exitedAt: startedAt + ranMs,
  };
}

/** Feeds the exits one after the other, as the supervisor does, and returns every decision. */
function decideAll(lives: readonly IncarnationTimes[], from: ServiceHistory = freshHistory): ExitDecision[] {
  const decisions: ExitDecision[] = [];
  let history = from;
  for (const times of lives) {
    const decision = decideAfterExit(history, times, policies);
    decisions.push(decision);
    history = decision.history;
  }
  return decisions;
}

const actions = (decisions: readonly ExitDecision[]) =>
  decisions.map((decision) => (decision.action === 'restart' ? decision.delayMs : 'give-up'));

describe('decideAfterExit', () => {
  it('gives up on the third exit in a row of a service that dies early and was never up', () => {
    expect(actions(decideAll([life(800), life(800), life(800)]))).toEqual([100, 200, 'give-up']);
  });

  it('counts a slow start as early while it is within the window', () => {
    expect(actions(decideAll([life(9_000), life(9_000), life(9_999)]))).toEqual([100, 200, 'give-up']);
  });

  it('does not count an exit after the window: the loop starts over', () => {
    const decisions = decideAll([life(800), life(800), life(10_000), life(800), life(800)]);
    expect(actions(decisions)).toEqual([100, 200, 400, 800, 1_000]);
    expect(decisions.map((decision) => decision.history.earlyExitsInARow)).toEqual([1, 2, 0, 1, 2]);
  });

  it('never gives up on a service that was up once: it is restarted, however fast it dies again', () => {
    const decisions = decideAll([life(5_000, 1_000), life(800), life(800), life(800), life(800)]);
    expect(actions(decisions)).toEqual([100, 200, 400, 800, 1_000]);
    expect(decisions.every((decision) => decision.history.wasEverUp)).toBe(true);
  });

  it('restarts a child that crashes while running healthily after the initial delay each time', () => {
    const healthyFor4s = life(5_000, 1_000);
    expect(actions(decideAll([healthyFor4s, healthyFor4s, healthyFor4s, healthyFor4s]))).toEqual([
      100, 100, 100, 100,
    ]);
  });

  it('backs off a child that is up but dies soon after, doubling up to the maximum', () => {
    const upBriefly = life(1_500, 1_000);
    expect(actions(decideAll(Array.from({ length: 6 }, () => upBriefly)))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('follows the policy: one early exit may be enough', () => {
    const strict: ExitPolicies = { ...policies, crashLoop: { maxEarlyExits: 1, earlyExitMs: 10_000 } };
    expect(decideAfterExit(freshHistory, life(500), strict)).toEqual({
      action: 'give-up',
      history: { crashesInARow: 1, earlyExitsInARow: 1, wasEverUp: false },
    });
  });

  it('does not change the history it is given', () => {
    const history: ServiceHistory = { crashesInARow: 2, earlyExitsInARow: 2, wasEverUp: false };
    decideAfterExit(history, life(500), policies);
    expect(history).toEqual({ crashesInARow: 2, earlyExitsInARow: 2, wasEverUp: false });
  });
});
