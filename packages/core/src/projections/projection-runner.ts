import { decodeConsistencyToken, encodeConsistencyToken, type StreamMark } from '../consistency/index.ts';
import { describeError } from '../errors/describe-error.ts';
import {
  ConfigurationError,
  InvalidArgumentError,
  NotFoundError,
  WaitTimeoutError,
} from '../errors/index.ts';
import { type EventStore, subjectForgottenType } from '../event-store/index.ts';
import { isStreamId } from '../guards/index.ts';
import { createWakeableSleep } from '../lifecycle/index.ts';
import { createEventRegistry, type Message } from '../message/index.ts';
import {
  type Consumer,
  type ConsumerBatchSplit,
  type ConsumerRetry,
  createConsumer,
  type MessageContext,
} from '../messaging/index.ts';
import {
  type DeadLetter,
  type GlobalCursor,
  type ReadConsistencyOptions,
  type StoreReads,
  sessionTargetOf,
} from '../store/index.ts';
import type { Transport } from '../transport/index.ts';
import { applySourcedEvents } from './apply-batch.ts';
import {
  deadLetterConsumerOf,
  type HaltedAt,
  isolatePoison,
  isStoreTrouble,
  type PoisonPolicy,
} from './own-log-poison.ts';
import type { Projection } from './projection.ts';
import { type RebuildProgress, type ReplaySource, rebuildProjection } from './projection-rebuild.ts';
import {
  eventStoreHistory,
  ownLog,
  type ProjectionSource,
  type SubscriptionSource,
} from './projection-source.ts';
import { type ProjectionStatus, type RebuildStatus, subscriptionStatus } from './projection-status.ts';
import { activateGeneration, applyEvents, createGeneration, dropGeneration } from './read-model.ts';
import { progressCollections, readAppliedVersion } from './subscribed-progress.ts';
import { SwapGate } from './swap-gate.ts';

export type { ProjectionStatus, RebuildStatus, SourceStatus } from './projection-status.ts';

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
  rebuild: RebuildStatus | null;
  rebuildRun: Promise<unknown> | null;
  /** Stopped at an event its handler could not apply (policy halt), until redrive or discard. */
  halted: HaltedAt | null;
}

/** Kept in the store, so a restarted runner stays paused and finishes a rebuild cut short. */
interface Control {
  paused: boolean;
  rebuilding: string[];
}

export interface ProjectionRunnerOptions {
  eventStore: EventStore;
  projections: readonly Projection[];
  /** Where events come from (default: the own log); every projection of the runner gets all of them. */
  sources?: readonly ProjectionSource[];
  /** The consumer group that delivers subscription sources; required with one. */
  subscription?: {
    name: string;
    transport: Transport;
    /** Deliveries before a failing event is dead-lettered (default 5). */
    maxAttempts?: number;
    onDeadLetter?: (entry: { messageId: string; reason: string }) => void;
    /** Each failed delivery that will be tried again (see the consumer's `onRetry`). */
    onRetry?: (failure: ConsumerRetry) => void;
    /** A gathered transaction that failed whole (see the consumer's `onBatchSplit`). */
    onBatchSplit?: (failure: ConsumerBatchSplit) => void;
  };
  /**
   * An own-log event a handler keeps failing on: after `maxAttempts` tries of its batch (default
   * 5) it goes to the dead-letter store with the projection, position and error, and the
   * projection skips it (default) or halts before it until it is redriven or discarded.
   * Subscribed events are dead-lettered by the runner's consumer (its key parked behind them).
   */
  poison?: { maxAttempts?: number; policy?: PoisonPolicy };
  batchSize?: number;
  /** Poll fallback when no change notification arrives. */
  idlePollMs?: number;
  onError?: (projection: string, error: unknown) => void;
  /** After each commit, per event it applied live (not on replay): e.g. to measure write → visible. */
  onApplied?: (event: Message) => void;
}

const controlCollection = 'causeway.projection_control';
/** Rolls back a batch whose checkpoint another process moved first. */
const checkpointMoved = new Error('the projection checkpoint moved: another process applied this batch');

/**
 * Runs projections from their sources: the service's own log, read in batches from a checkpoint,
 * and other services' events, delivered by a consumer. Read-model writes commit in one
 * transaction with the checkpoint (own log) or with each stream's applied version
 * (subscriptions), so a crash never applies an event twice or loses one. A consistency token of
 * any service's write can be waited for; rebuild replays every source into a fresh generation.
 */
export function createProjectionRunner(options: ProjectionRunnerOptions) {
  const { eventStore } = options;
  const store = eventStore.store;
  const sources = options.sources ?? [ownLog()];
  const hasOwnLog = sources.some((source) => source.kind === 'log');
  const subscriptions = sources.filter(
    (source): source is SubscriptionSource => source.kind === 'subscription',
  );
  const batchSize = options.batchSize ?? 500;
  const idlePollMs = options.idlePollMs ?? 250;
  const maxAttempts = options.poison?.maxAttempts ?? 5;
  const poisonPolicy = options.poison?.policy ?? 'skip';
  const live = new Map<string, LiveState>();
  const waiters = new Set<() => void>();
  const gate = new SwapGate();
  const controlId = options.subscription?.name ?? options.projections.map((each) => each.name).join('+');
  let control: Control = { paused: false, rebuilding: [] };
  let running = false;
  /** stop() was called: a rebuild waiting for a source gives up instead of asking forever. */
  let stopped = false;
  let initializing: Promise<void> | null = null;
  /** Control and checkpoints read once: the consumer may be started by its host before start(). */
  const ready = () =>
    (initializing ??= (async () => {
      await loadControl();
      for (const state of live.values()) await initialize(state);
    })().catch((error) => {
      initializing = null;
      throw error;
    }));
  const { sleep: sleepUntilChange, wake } = createWakeableSleep();
  let unsubscribe: (() => void) | null = null;
  const loops: Promise<void>[] = [];

  validateSources(sources, options.subscription);
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
      rebuild: null,
      rebuildRun: null,
      halted: null,
    });
  }
  const consumer = subscriptions.length > 0 ? createSubscriptionConsumer() : null;

  function notifyWaiters() {
    for (const waiter of [...waiters]) waiter();
  }

  function createSubscriptionConsumer(): Consumer {
    const subscription = options.subscription!;
    const sourceOfType = new Map<string, string>();
    for (const source of subscriptions)
      for (const type of source.registry.types) sourceOfType.set(type, source.name);
    const registry = createEventRegistry(subscriptions.flatMap((source) => source.registry.definitions));
    const applyLive = async (event: Message, { tx }: MessageContext) => {
      const source = sourceOfType.get(event.type)!;
      let applied = false;
      for (const state of live.values()) {
        const events = [{ source, subscribed: true, event }];
        const done = await applySourcedEvents({
          store,
          projection: state.projection,
          tx,
          generation: state.generation,
          events,
        });
        applied ||= done.length > 0;
      }
      tx.onCommit(() => {
        if (applied) options.onApplied?.(event);
        notifyWaiters();
      });
    };
    return createConsumer({
      name: subscription.name,
      store,
      transport: subscription.transport,
      destinations: [...new Set(subscriptions.map((source) => source.destination))],
      registry,
      handlers: Object.fromEntries(registry.types.map((type) => [type, applyLive])),
      // One transaction at a time: each writes the per-source progress documents.
      batching: { concurrency: 1 },
      aroundTransaction: async (transaction) => {
        await ready();
        return gate.shared(transaction);
      },
      ...(subscription.maxAttempts ? { maxAttempts: subscription.maxAttempts } : {}),
      ...(subscription.onDeadLetter ? { onDeadLetter: subscription.onDeadLetter } : {}),
      ...(subscription.onRetry ? { onRetry: subscription.onRetry } : {}),
      ...(subscription.onBatchSplit ? { onBatchSplit: subscription.onBatchSplit } : {}),
    });
  }

  async function loadControl() {
    const saved = await store.documents.get<Control>(null, controlCollection, controlId);
    control = saved ?? { paused: false, rebuilding: [] };
  }
  const saveControl = () =>
    store.transaction((tx) => store.documents.put(tx, controlCollection, controlId, control));

  async function initialize(state: LiveState) {
    if (state.initialized) return;
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

  /** One batch of the own log; returns true when it made progress. */
  async function step(state: LiveState): Promise<boolean> {
    const batch = await eventStore.readAll(state.cursor, { limit: batchSize });
    state.heldBackMs = batch.heldBackMs;
    state.heldBackReason = batch.heldBackReason;
    if (batch.events.length === 0) {
      state.cursor = batch.cursor;
      return false;
    }
    const saved = await store
      .transaction(async (tx) => {
        await applyEvents(store, state.projection, tx, state.generation, batch.events);
        // Several processes may run this projection: the one whose checkpoint moved since it read
        // its batch (another process applied it) rolls back, and takes that checkpoint as its own.
        const from = { position: state.cursor.position, generation: state.generation };
        const next = { position: batch.cursor.position, generation: state.generation };
        if (!(await store.checkpoints.save(tx, state.projection.name, next, { from }))) throw checkpointMoved;
        return true;
      })
      .catch((error: unknown) => {
        if (error === checkpointMoved) return false;
        throw error;
      });
    if (!saved) {
      const checkpoint = await store.checkpoints.load(null, state.projection.name);
      if (checkpoint) {
        state.cursor = { position: checkpoint.position };
        state.generation = checkpoint.generation;
      }
      notifyWaiters();
      return true;
    }
    state.cursor = batch.cursor;
    state.lastError = undefined;
    for (const event of batch.events) options.onApplied?.(event);
    notifyWaiters();
    // The read model just dropped someone's personal data: make sure it is gone from disk too.
    if (batch.events.some((event) => event.type === subjectForgottenType)) await store.purgeDeletedData?.();
    return true;
  }

  async function loop(state: LiveState) {
    let failures = 0;
    while (running) {
      if (state.pause) {
        state.pause.resolve();
        await state.pause.done;
        continue;
      }
      if (control.paused || state.halted) {
        await sleepUntilChange(idlePollMs);
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
        if (failures >= maxAttempts && !isStoreTrouble(error)) {
          failures = 0;
          await isolate(state, maxAttempts).catch((isolationError) =>
            options.onError?.(state.projection.name, isolationError),
          );
          continue;
        }
        // A failing handler is retried with capped backoff; the checkpoint stays where it was.
        await sleepUntilChange(Math.min(30_000, 100 * 2 ** Math.min(failures, 8)));
      }
    }
  }

  /** Finds the event that fails the batch, dead-letters it, and skips it or halts before it. */
  async function isolate(state: LiveState, attempts: number) {
    const poison = await isolatePoison({
      eventStore,
      projection: state.projection,
      generation: state.generation,
      cursor: state.cursor,
      batchSize,
      attempts,
      policy: poisonPolicy,
      onApplied: (cursor, event) => {
        state.cursor = cursor;
        options.onApplied?.(event);
        notifyWaiters();
      },
    });
    if (!poison) return;
    if (poisonPolicy === 'halt') {
      state.halted = {
        position: poison.event.globalPosition,
        eventId: poison.event.id,
        deadLetter: poison.deadLetter,
        reason: poison.reason,
      };
      return;
    }
    state.cursor = { position: poison.event.globalPosition };
    state.lastError = `skipped event ${poison.event.id}: ${poison.reason}`;
    notifyWaiters();
  }

  /** The projection whose own-log dead letter this is, and the entry; NotFoundError otherwise. */
  async function ownLogDeadLetter(sequence: number): Promise<{ state: LiveState; entry: DeadLetter }> {
    const entry = await store.deadLetters.get(null, sequence);
    const state = [...live.values()].find(
      (each) => entry && deadLetterConsumerOf(each.projection.name) === entry.consumer,
    );
    if (!entry || !state) throw new NotFoundError('Dead letter', String(sequence));
    if (entry.status !== 'dead') {
      throw new InvalidArgumentError(
        'sequence',
        `Dead letter ${sequence} is ${entry.status}, not dead: nothing to do`,
      );
    }
    return { state, entry };
  }

  /**
   * Applies a dead-lettered own-log event again (with the live loop parked). A halted projection
   * moves past it and goes on; a skipping one applies it late, after the events behind it.
   */
  async function redriveOwnLog(sequence: number): Promise<{ redriven: number; failed?: DeadLetter }> {
    const { state, entry } = await ownLogDeadLetter(sequence);
    const event = entry.message as Message;
    const halted = state.halted?.eventId === event.id;
    const resume = await pauseOwnLog(state);
    try {
      await store.transaction(async (tx) => {
        await applyEvents(store, state.projection, tx, state.generation, [event]);
        if (halted) {
          const checkpoint = { position: event.globalPosition, generation: state.generation };
          await store.checkpoints.save(tx, state.projection.name, checkpoint);
        }
        await store.deadLetters.setStatus(tx, sequence, 'redriven');
      });
    } catch (error) {
      const failed = { ...entry, reason: describeError(error), attempts: entry.attempts + 1 };
      await store.deadLetters.put(null, { ...failed, status: 'dead' });
      return { redriven: 0, failed };
    } finally {
      resume();
    }
    if (halted) {
      state.cursor = { position: event.globalPosition };
      state.halted = null;
      state.lastError = undefined;
      wake();
    }
    notifyWaiters();
    return { redriven: 1 };
  }

  /** Gives up on a dead-lettered own-log event: a projection halted before it moves past it. */
  async function discardOwnLog(sequence: number): Promise<void> {
    const { state, entry } = await ownLogDeadLetter(sequence);
    const event = entry.message as Message;
    const resume = await pauseOwnLog(state);
    try {
      await store.transaction(async (tx) => {
        if (state.halted?.eventId === event.id) {
          const checkpoint = { position: event.globalPosition, generation: state.generation };
          await store.checkpoints.save(tx, state.projection.name, checkpoint);
        }
        await store.deadLetters.setStatus(tx, sequence, 'discarded');
      });
    } finally {
      resume();
    }
    if (state.halted?.eventId === event.id) {
      state.cursor = { position: event.globalPosition };
      state.halted = null;
      wake();
    }
  }

  function stateOf(name: string): LiveState {
    const state = live.get(name);
    if (!state) throw new NotFoundError('Projection', name);
    return state;
  }

  /** Parks the own-log loop of `state` after its current batch; the function given lets it go on. */
  async function pauseOwnLog(state: LiveState): Promise<() => void> {
    if (!running || !hasOwnLog) return () => {};
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const parked = new Promise<void>((resolve) => {
      state.pause = { resolve, done };
    });
    wake();
    await parked;
    return () => {
      state.pause = null;
      release();
    };
  }

  /** Resolves once every check holds; WaitTimeoutError naming the first that does not after `timeoutMs` (default 5 s). */
  async function waitUntilApplied(
    state: LiveState,
    checks: ReadonlyArray<{ mark: StreamMark; isApplied: () => Promise<boolean> }>,
    timeoutMs = 5000,
  ): Promise<void> {
    const name = state.projection.name;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = [];
      for (const check of checks) if (!(await check.isApplied())) pending.push(check.mark);
      if (pending.length === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        const first = pending[0]!;
        throw new WaitTimeoutError(
          `Projection ${name} has not applied stream ${first.streamId} up to version ${first.version} within ${timeoutMs} ms (own log at ${state.cursor.position}${state.heldBackReason ? `; ${state.heldBackReason}` : ''})`,
          { projection: name, pending, timeoutMs },
        );
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 100));
        waiters.add(done);
      });
    }
  }

  /** A check per mark of the token: true once the projection has applied that stream version. */
  async function checksOf(state: LiveState, marks: readonly StreamMark[]) {
    const checks: Array<{ mark: StreamMark; isApplied: () => Promise<boolean> }> = [];
    for (const mark of marks) {
      if (!isStreamId(mark.streamId)) {
        throw new InvalidArgumentError('consistencyToken', `Consistency token names an invalid stream id`);
      }
      const [written] = hasOwnLog
        ? await store.events.readStream(null, mark.streamId, {
            direction: 'forward',
            fromVersion: mark.version,
            limit: 1,
          })
        : [];
      if (written) {
        checks.push({ mark, isApplied: async () => state.cursor.position >= written.globalPosition });
      } else if (subscriptions.length > 0) {
        checks.push({
          mark,
          isApplied: async () =>
            (await readAppliedVersion(store, state.projection.name, state.generation, mark.streamId)) >=
            mark.version,
        });
      } else {
        throw new InvalidArgumentError(
          'consistencyToken',
          `Consistency token names stream ${mark.streamId} at version ${mark.version}, which this store does not hold: pass the token of a write to this service`,
        );
      }
    }
    return checks;
  }

  async function runRebuild(state: LiveState, onProgress?: (progress: RebuildProgress) => unknown) {
    await ready();
    const oldGeneration = state.generation;
    const newGeneration = oldGeneration + 1;
    const replaySources: ReplaySource[] = sources.map((source) =>
      source.kind === 'log'
        ? {
            name: source.name,
            subscribed: false,
            history: eventStoreHistory(eventStore),
            finalTarget: async () => state.cursor.position,
          }
        : {
            name: source.name,
            subscribed: true,
            history: source.history,
            finalTarget: async () => (await source.history.stats(0)).head,
          },
    );
    const rebuild: RebuildStatus = {
      status: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      processed: 0,
      total: 0,
      error: null,
      waiting: null,
    };
    state.rebuild = rebuild;
    if (!control.rebuilding.includes(state.projection.name)) {
      control = { ...control, rebuilding: [...control.rebuilding, state.projection.name] };
      await saveControl();
    }
    const result = await rebuildProjection({
      store,
      projection: state.projection,
      generation: newGeneration,
      sources: replaySources,
      batchSize: Math.max(batchSize, 1000),
      pauseLive: async () => {
        const resumeOwnLog = await pauseOwnLog(state);
        const releaseGate = await gate.exclusive();
        return () => {
          releaseGate();
          resumeOwnLog();
        };
      },
      swap: async (tx, position) => {
        await activateGeneration(state.projection, tx, newGeneration);
        await store.checkpoints.save(tx, state.projection.name, { position, generation: newGeneration });
      },
      onSwapped: (position) => {
        if (hasOwnLog) state.cursor = { position };
        state.generation = newGeneration;
        notifyWaiters();
      },
      onWaiting: (reason) => {
        rebuild.waiting = reason;
      },
      isStopping: () => stopped,
      onProgress: async (progress) => {
        rebuild.processed = progress.processed;
        rebuild.total = progress.total;
        await onProgress?.(progress);
      },
    });
    await store.transaction(async (tx) => {
      await dropGeneration(store, state.projection, tx, oldGeneration);
      for (const collection of progressCollections(state.projection.name, oldGeneration))
        await store.documents.dropCollection(tx, collection);
    });
    control = { ...control, rebuilding: control.rebuilding.filter((name) => name !== state.projection.name) };
    await saveControl();
    Object.assign(rebuild, { status: 'done', finishedAt: new Date().toISOString(), total: result.events });
    return result;
  }

  /** One rebuild at a time per projection; its status stays readable after it ends. */
  function startRebuild(state: LiveState, onProgress?: (progress: RebuildProgress) => unknown) {
    const run = (async () => {
      try {
        return await runRebuild(state, onProgress);
      } catch (error) {
        if (state.rebuild) Object.assign(state.rebuild, { status: 'failed', error: String(error) });
        options.onError?.(state.projection.name, error);
        // Cut short by stop(): the next start() takes it up again. Failed on its own (a handler
        // that throws on replay): starting it again would fail the same way, so it waits for the
        // operator. Saved before the caller hears of the failure.
        if (!stopped) {
          const rebuilding = control.rebuilding.filter((name) => name !== state.projection.name);
          control = { ...control, rebuilding };
          await saveControl().catch(() => {});
        }
        throw error;
      } finally {
        state.rebuildRun = null;
      }
    })();
    state.rebuildRun = run;
    // Started by start() for a rebuild cut short, nobody awaits it: its failure is reported above.
    run.catch(() => {});
    return run;
  }

  return {
    /** The consumer delivering subscription sources (null without any): its dead letters, redrive. */
    consumer,

    async start() {
      if (running) return;
      await ready();
      running = true;
      stopped = false;
      if (hasOwnLog) {
        unsubscribe = store.subscribeToChanges(() => wake());
        for (const state of live.values()) loops.push(loop(state));
      }
      if (consumer) await (control.paused ? consumer.stop() : consumer.start());
      // A rebuild cut short (a crash, a stop) starts again: the old generation stayed live meanwhile.
      for (const name of control.rebuilding) {
        const state = live.get(name);
        if (state && !state.rebuildRun) startRebuild(state);
      }
    },

    async stop() {
      running = false;
      stopped = true;
      unsubscribe?.();
      wake();
      await consumer?.stop();
      await Promise.all(loops.splice(0));
    },

    /**
     * Applies a dead-lettered event again: an own-log event of one of the projections (a halted
     * projection then goes on past it), or a subscribed one through the consumer (with what is
     * parked behind it, in order). A failure keeps it dead with the new reason.
     */
    async redrive(sequence: number): Promise<{ redriven: number; failed?: DeadLetter }> {
      const entry = await store.deadLetters.get(null, sequence);
      if (consumer && entry?.consumer === consumer.name) return consumer.redrive(sequence);
      return redriveOwnLog(sequence);
    },

    /** Gives up on a dead-lettered event; a projection halted before it goes on past it. */
    async discard(sequence: number): Promise<void> {
      const entry = await store.deadLetters.get(null, sequence);
      if (consumer && entry?.consumer === consumer.name) return consumer.discard(sequence);
      return discardOwnLog(sequence);
    },

    /** Stops applying events until resume(); kept in the store across restarts. Lag grows meanwhile. */
    async pause() {
      control = { ...control, paused: true };
      await saveControl();
      await consumer?.stop();
    },

    async resume() {
      control = { ...control, paused: false };
      await saveControl();
      if (running) await consumer?.start();
      wake();
    },

    /**
     * Resolves once `name` has applied every stream version the token names (a write to this
     * service's log, or another service's write delivered by a subscription); WaitTimeoutError
     * after `timeoutMs`.
     */
    async waitFor(name: string, token: string, waitOptions: { timeoutMs?: number } = {}): Promise<void> {
      const state = stateOf(name);
      await waitUntilApplied(
        state,
        await checksOf(state, decodeConsistencyToken(token)),
        waitOptions.timeoutMs,
      );
    },

    /**
     * Runs `work` on `name`'s read model at a consistency. `strong`: once it has applied its own
     * log as it stood at the call, on the primary. `session`: once it has applied the writes the
     * token names (as waitFor), on a replica that has replayed the projection's commit of them, else
     * the primary. `eventual`: at once, on any replica. A store without replicas reads itself.
     */
    async read<T>(
      name: string,
      options: ReadConsistencyOptions & { timeoutMs?: number },
      work: (reads: StoreReads) => Promise<T>,
    ): Promise<T> {
      const state = stateOf(name);
      sessionTargetOf(options);
      if (options.consistency === 'eventual') return store.read({ consistency: 'eventual' }, work);
      if (options.consistency === 'strong') {
        const head = hasOwnLog ? await store.events.headPosition() : 0;
        const caughtUp = {
          mark: { streamId: '(own log head)', version: head },
          isApplied: async () => state.cursor.position >= head,
        };
        await waitUntilApplied(state, [caughtUp], options.timeoutMs);
        return store.read({ consistency: 'strong' }, work);
      }
      if (options.token !== undefined) {
        await waitUntilApplied(
          state,
          await checksOf(state, decodeConsistencyToken(options.token)),
          options.timeoutMs,
        );
      }
      // The projection committed what it applied before now: the log's position now is past it.
      const position = await store.sessionPosition?.();
      const token = position === undefined ? undefined : encodeConsistencyToken([], position);
      return store.read({ consistency: 'session', token }, work);
    },

    async status(name: string): Promise<ProjectionStatus> {
      const state = stateOf(name);
      const { position, generation } = await progressOf(state);
      const head = hasOwnLog ? await store.events.headPosition() : 0;
      let secondsBehind = 0;
      if (head > position) {
        const next = await store.events.readAll({ position }, { limit: 1 });
        const first = next.events[0];
        if (first) secondsBehind = Math.max(0, (Date.now() - Date.parse(first.occurredAt)) / 1000);
      }
      const positionsBehind = Math.max(0, head - position);
      const sourceStatuses = await Promise.all(
        sources.map((source) =>
          source.kind === 'log'
            ? {
                name: source.name,
                kind: 'log' as const,
                position,
                head,
                applied: null,
                sourceEvents: null,
                lagEvents: positionsBehind,
                lagSeconds: secondsBehind,
                lastAppliedAt: null,
                error: null,
              }
            : subscriptionStatus(store, source, name, generation),
        ),
      );
      const rebuilding =
        state.rebuild?.status === 'running' || (!state.rebuild && control.rebuilding.includes(name));
      return {
        name,
        generation,
        state: rebuilding ? 'rebuilding' : state.halted ? 'halted' : control.paused ? 'paused' : 'live',
        position,
        head,
        positionsBehind,
        secondsBehind,
        heldBackMs: state.heldBackMs,
        ...(state.heldBackReason ? { heldBackReason: state.heldBackReason } : {}),
        ...(state.lastError ? { lastError: state.lastError } : {}),
        sources: sourceStatuses,
        rebuild: state.rebuild ? { ...state.rebuild } : null,
        halted: state.halted ? { ...state.halted } : null,
      };
    },

    /**
     * Rebuilds `name` from every source's first event into a fresh generation while the old one
     * stays readable and live, then swaps both in one transaction with the checkpoint. Resolves
     * when the new generation is live; a rebuild already running is joined.
     */
    async rebuild(
      name: string,
      rebuildOptions: { onProgress?: (progress: RebuildProgress) => unknown } = {},
    ) {
      const state = stateOf(name);
      if (state.rebuildRun) return (await state.rebuildRun) as Awaited<ReturnType<typeof runRebuild>>;
      return startRebuild(state, rebuildOptions.onProgress);
    },
  };
}

export type ProjectionRunner = ReturnType<typeof createProjectionRunner>;

function validateSources(
  sources: readonly ProjectionSource[],
  subscription: ProjectionRunnerOptions['subscription'],
) {
  const names = sources.map((source) => source.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw new ConfigurationError(`Projection source ${repeated} is given twice`);
  if (sources.filter((source) => source.kind === 'log').length > 1)
    throw new ConfigurationError('A projection runner reads the own log once: give ownLog() at most once');
  if (sources.some((source) => source.kind === 'subscription') && !subscription) {
    throw new ConfigurationError(
      'Subscription sources need options.subscription (the consumer group name and the transport)',
    );
  }
  if (sources.length === 0) throw new ConfigurationError('A projection runner needs at least one source');
}
