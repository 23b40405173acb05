import type { Store } from '../store/index.ts';
import type { HaltedAt } from './own-log-poison.ts';
import type { SubscriptionSource } from './projection-source.ts';
import { readSourceProgress } from './subscribed-progress.ts';

/** How far a projection is behind one of its sources. */
export interface SourceStatus {
  name: string;
  kind: 'log' | 'subscription';
  /** Last position of the source's log applied here. */
  position: number;
  /** The source's head; null when it did not answer. */
  head: number | null;
  /** Events of the source applied in the live generation (subscriptions; null for the own log). */
  applied: number | null;
  /** Events the source's log holds (subscriptions; null for the own log or when it did not answer). */
  sourceEvents: number | null;
  /** Events the source holds that are not applied here. */
  lagEvents: number | null;
  /** How long the oldest of them has waited. */
  lagSeconds: number | null;
  lastAppliedAt: string | null;
  /** Why head and lag are unknown (the source did not answer). */
  error: string | null;
}

export interface RebuildStatus {
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  processed: number;
  total: number;
  error: string | null;
  /** Why it waits for a source that does not answer (it asks again every second), or null. */
  waiting: string | null;
}

export interface ProjectionStatus {
  name: string;
  generation: number;
  state: 'live' | 'paused' | 'rebuilding' | 'halted';
  /** Last position of the own log applied (0 without one). */
  position: number;
  head: number;
  positionsBehind: number;
  /** Age of the oldest event of the own log not yet applied (0 when caught up). */
  secondsBehind: number;
  /** How long an unfinished transaction elsewhere has held this projection at a gap. */
  heldBackMs: number;
  heldBackReason?: string;
  lastError?: string;
  sources: SourceStatus[];
  rebuild: RebuildStatus | null;
  /** Where the projection stopped at an event it could not apply (poison policy halt). */
  halted: HaltedAt | null;
}

/** Lag of a subscription source, from its history's statistics and what this generation applied. */
export async function subscriptionStatus(
  store: Store,
  source: SubscriptionSource,
  projection: string,
  generation: number,
): Promise<SourceStatus> {
  const progress = await readSourceProgress(store, projection, generation, source.name);
  const known = {
    name: source.name,
    kind: 'subscription' as const,
    position: progress.position,
    applied: progress.applied,
    lastAppliedAt: progress.lastAppliedAt,
  };
  try {
    const stats = await source.history.stats(progress.position);
    const lagEvents = Math.max(0, stats.count - progress.applied);
    // Out of order across streams, every unapplied event may lie below the position: then the
    // time since anything was last applied is the best bound on how long they have waited.
    const waitingSince = stats.firstAfterAt ?? progress.lastAppliedAt;
    const lagSeconds =
      lagEvents === 0 || !waitingSince ? 0 : Math.max(0, (Date.now() - Date.parse(waitingSince)) / 1000);
    return { ...known, head: stats.head, sourceEvents: stats.count, lagEvents, lagSeconds, error: null };
  } catch (error) {
    return {
      ...known,
      head: null,
      sourceEvents: null,
      lagEvents: null,
      lagSeconds: null,
      error: `${source.name} did not answer: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
