import { decodeConsistencyToken } from '../consistency/index.ts';
import { ConfigurationError, NotFoundError, WaitTimeoutError } from '../errors/index.ts';
import { type EventStore, subjectForgottenType } from '../event-store/index.ts';
import { createWakeableSleep } from '../lifecycle/index.ts';
import type { GlobalCursor } from '../store/index.ts';
import type { Projection } from './projection.ts';
import { type RebuildProgress, rebuildProjection } from './projection-rebuild.ts';
import { activateGeneration, applyEvents, createGeneration, dropGeneration } from './read-model.ts';

export interface ProjectionStatus {
  name: string;
  generation: number;
  /** Last global position applied. */
  position: number;
  head: number;
  positionsBehind: number;
  /** Age of the oldest event not yet applied (0 when caught up). */
  secondsBehind: number;
  /** How long an unfinished transaction elsewhere has held this projection at a gap. */
  heldBackMs: number;
  heldBackReason?: string;
  lastError?: string;
}

interface LiveState {
  projection: Projection;
  cursor: GlobalCursor;
  /** False until start() has read (or created) the checkpoint: before, the cursor means nothing. */
  initialized: boolean;
  generation: number;
  heldBackMs: number;
  heldBackReason?: string;
  lastError?: string;
  /** Resolves when the loop finishes its current batch and pauses (rebuild swap). */
  pause: null | { resolve: () => void; done: Promise<void> };
  paused: boolean;
}

export interface ProjectionRunnerOptions {
  eventStore: EventStore;
  projections: readonly Projection[];
  batchSize?: number;
  /** Poll fallback when no change notification arrives. */
  idlePollMs?: number;
  onError?: (projection: string, error: unknown) => void;
}

/**
 * Runs projections from the global log in batches. Each batch's read-model writes and the
 * checkpoint commit in one transaction, so a crash never applies an event twice or loses one.
 */
export function createProjectionRunner(options: ProjectionRunnerOptions) {
  const { eventStore } = options;
  const store = eventStore.store;
  const batchSize = options.batchSize ?? 500;
  const idlePollMs = options.idlePollMs ?? 250;
  const live = new Map<string, LiveState>();
  const waiters = new Set<() => void>();
  let running = false;
  const { sleep: sleepUntilChange, wake } = createWakeableSleep();
  let unsubscribe: (() => void) | null = null;
  const loops: Promise<void>[] = [];

  for (const projection of options.projections) {
    if (live.has(projection.name))
      throw new ConfigurationError(`Projection ${projection.name} is registered twice`);
    live.set(projection.name, {
      projection,
      cursor: { position: 0 },
      initialized: false,
      generation: 1,
      heldBackMs: 0,
      pause: null,
      paused: false,
    });
  }

  function notifyWaiters() {
    for (const waiter of [...waiters]) waiter();
  }

  async function initialize(state: LiveState) {
    const checkpoint = await store.checkpoints.load(null, state.projection.name);
    if (checkpoint) {
      state.cursor = { position: checkpoint.position };
      state.generation = checkpoint.generation;
    } else {
      await store.transaction(async (tx) => {
        await createGeneration(store, state.projection, tx, 1);
        await activateGeneration(state.projection, tx, 1);
        await store.checkpoints.save(tx, state.projection.name, { position: 0, generation: 1 });
      });
    }
    state.initialized = true;
  }

  /** Where a projection stands: its live cursor once started, its saved checkpoint before. */
  async function progressOf(state: LiveState): Promise<{ position: number; generation: number }> {
    if (state.initialized) return { position: state.cursor.position, generation: state.generation };
    const checkpoint = await store.checkpoints.load(null, state.projection.name);
    return { position: checkpoint?.position ?? 0, generation: checkpoint?.generation ?? state.generation };
  }

  /** One batch; returns true when it made progress. */
  async function step(state: LiveState): Promise<boolean> {
    const batch = await eventStore.readAll(state.cursor, { limit: batchSize });
    state.heldBackMs = batch.heldBackMs;
    state.heldBackReason = batch.heldBackReason;
    if (batch.events.length === 0) {
      state.cursor = batch.cursor;
      return false;
    }
    await store.transaction(async (tx) => {
      await applyEvents(store, state.projection, tx, state.generation, batch.events);
      await store.checkpoints.save(tx, state.projection.name, {
        position: batch.cursor.position,
        generation: state.generation,
      });
    });
    state.cursor = batch.cursor;
    state.lastError = undefined;
    notifyWaiters();
    // The read model just dropped someone's personal data: make sure it is gone from disk too.
    if (batch.events.some((event) => event.type === subjectForgottenType)) await store.purgeDeletedData?.();
    return true;
  }

  async function loop(state: LiveState) {
    let failures = 0;
    while (running) {
      if (state.pause) {
        state.paused = true;
        state.pause.resolve();
        await state.pause.done;
        state.paused = false;
        continue;
      }
      try {
        const progressed = await step(state);
        failures = 0;
        if (!progressed) await sleepUntilChange(idlePollMs);
      } catch (error) {
        failures++;
        state.lastError = error instanceof Error ? error.message : String(error);
        options.onError?.(state.projection.name, error);
        // A failing handler is retried with capped backoff; the checkpoint stays where it was.
        await sleepUntilChange(Math.min(30_000, 100 * 2 ** Math.min(failures, 8)));
      }
    }
  }

  function stateOf(name: string): LiveState {
    const state = live.get(name);
    if (!state) throw new NotFoundError('Projection', name);
    return state;
  }

  return {
    async start() {
      if (running) return;
      for (const state of live.values()) await initialize(state);
      running = true;
      unsubscribe = store.subscribeToChanges(() => wake());
      for (const state of live.values()) loops.push(loop(state));
    },

    async stop() {
      running = false;
      unsubscribe?.();
      wake();
      await Promise.all(loops.splice(0));
    },

    /** Resolves once `name` has applied the token's position; WaitTimeoutError after `timeoutMs`. */
    async waitFor(name: string, token: string, waitOptions: { timeoutMs?: number } = {}): Promise<void> {
      const target = decodeConsistencyToken(token);
      const state = stateOf(name);
      const timeoutMs = waitOptions.timeoutMs ?? 5000;
      if (state.cursor.position >= target) return;
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (state.cursor.position < target) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new WaitTimeoutError(
              `Projection ${name} did not reach position ${target} within ${timeoutMs} ms (at ${state.cursor.position}${state.heldBackReason ? `; ${state.heldBackReason}` : ''})`,
              { projection: name, target, position: state.cursor.position, timeoutMs },
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },

    async status(name: string): Promise<ProjectionStatus> {
      const state = stateOf(name);
      const head = await store.events.headPosition();
      const { position, generation } = await progressOf(state);
      let secondsBehind = 0;
      if (head > position) {
        const next = await store.events.readAll({ position }, { limit: 1 });
        const first = next.events[0];
        if (first) secondsBehind = Math.max(0, (Date.now() - Date.parse(first.occurredAt)) / 1000);
      }
      return {
        name,
        generation,
        position,
        head,
        positionsBehind: Math.max(0, head - position),
        secondsBehind,
        heldBackMs: state.heldBackMs,
        ...(state.heldBackReason ? { heldBackReason: state.heldBackReason } : {}),
        ...(state.lastError ? { lastError: state.lastError } : {}),
      };
    },

    /**
     * Rebuilds `name` from the first event into a fresh generation while the old one stays
     * readable, then swaps both in one transaction with the checkpoint.
     */
    async rebuild(name: string, rebuildOptions: { onProgress?: (progress: RebuildProgress) => void } = {}) {
      const state = stateOf(name);
      if (!running) await initialize(state);
      const oldGeneration = state.generation;
      const newGeneration = oldGeneration + 1;
      const pauseLive = async () => {
        if (!running) return () => {};
        let release!: () => void;
        const done = new Promise<void>((resolve) => {
          release = resolve;
        });
        const paused = new Promise<void>((resolve) => {
          state.pause = { resolve, done };
        });
        wake();
        await paused;
        return () => {
          state.pause = null;
          release();
        };
      };
      const result = await rebuildProjection({
        eventStore,
        projection: state.projection,
        generation: newGeneration,
        batchSize: Math.max(batchSize, 1000),
        livePosition: () => state.cursor.position,
        pauseLive,
        onSwapped: (cursor) => {
          state.cursor = cursor;
          state.generation = newGeneration;
          notifyWaiters();
        },
        ...(rebuildOptions.onProgress ? { onProgress: rebuildOptions.onProgress } : {}),
      });
      await store.transaction((tx) => dropGeneration(store, state.projection, tx, oldGeneration));
      return result;
    },
  };
}

export type ProjectionRunner = ReturnType<typeof createProjectionRunner>;
