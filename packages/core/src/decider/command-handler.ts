import { ConcurrencyError } from '../errors/index.ts';
import type { AppendOptions, EventStore } from '../event-store/index.ts';
import type { Message, Metadata } from '../message/index.ts';
import type { Transaction } from '../store/index.ts';
import { loadAggregate, type SnapshotPolicy } from './aggregate-loader.ts';
import type { Decider, DomainEvent } from './decider.ts';

export interface CommandResult<State> {
  state: State;
  events: Message[];
  nextExpectedVersion: number;
  consistencyToken: string | null;
  snapshotTaken: boolean;
}

export interface HandleOptions {
  /** Fail instead of retrying when the stream is not at this version (client-side concurrency). */
  expectedVersion?: number;
  correlationId?: string;
  causationId?: string;
  metadata?: Metadata;
  tx?: Transaction;
  publishTo?: string;
}

/**
 * Loads, decides, appends. On a concurrent write it reloads and decides again, up to
 * `maxRetries` times; then the ConcurrencyError reaches the caller.
 */
export function createCommandHandler<State, Command, Event extends DomainEvent>(options: {
  eventStore: EventStore;
  decider: Decider<State, Command, Event>;
  snapshot?: SnapshotPolicy<State>;
  maxRetries?: number;
}) {
  const { eventStore, decider, snapshot } = options;
  const maxRetries = options.maxRetries ?? 3;

  async function attempt(
    streamId: string,
    command: Command,
    handleOptions: HandleOptions,
  ): Promise<CommandResult<State>> {
    const loaded = await loadAggregate(eventStore, streamId, {
      decider: decider as Decider<State, unknown, Event>,
      ...(snapshot ? { snapshot } : {}),
      tx: handleOptions.tx ?? null,
    });
    if (handleOptions.expectedVersion !== undefined && handleOptions.expectedVersion !== loaded.version) {
      throw new ConcurrencyError(streamId, handleOptions.expectedVersion, loaded.version);
    }
    const decided = decider.decide(command, loaded.state);
    const newEvents = Array.isArray(decided) ? decided : [decided as Event];
    if (newEvents.length === 0) {
      return {
        state: loaded.state,
        events: [],
        nextExpectedVersion: loaded.version,
        consistencyToken: null,
        snapshotTaken: false,
      };
    }
    const appendOptions: AppendOptions = {
      expectedVersion: loaded.version === 0 ? 'noStream' : loaded.version,
      ...pick(handleOptions, ['correlationId', 'causationId', 'metadata', 'tx', 'publishTo']),
    };
    const outcome = await eventStore.appendToStream(
      streamId,
      newEvents.map((e) => ({ type: e.type, data: e.data })),
      appendOptions,
    );
    const state = outcome.events.reduce((s, e) => decider.evolve(s, e as unknown as Event), loaded.state);
    const snapshotTaken = await maybeSnapshot(
      streamId,
      state,
      loaded.version,
      outcome.nextExpectedVersion,
      handleOptions.tx,
    );
    return {
      state,
      events: outcome.events,
      nextExpectedVersion: outcome.nextExpectedVersion,
      consistencyToken: outcome.consistencyToken,
      snapshotTaken,
    };
  }

  async function maybeSnapshot(
    streamId: string,
    state: State,
    before: number,
    after: number,
    tx?: Transaction,
  ) {
    if (!snapshot || Math.floor(before / snapshot.every) === Math.floor(after / snapshot.every)) return false;
    const subjectId = snapshot.subject?.(state, streamId) ?? null;
    const stored = subjectId ? await eventStore.cipher.sealDocument(tx ?? null, subjectId, state) : state;
    await eventStore.store.snapshots.save(tx ?? null, {
      streamId,
      aggregateType: snapshot.aggregateType,
      streamVersion: after,
      snapshotVersion: snapshot.version,
      subjectId,
      state: stored,
      takenAt: new Date().toISOString(),
    });
    return true;
  }

  return {
    async handle(
      streamId: string,
      command: Command,
      handleOptions: HandleOptions = {},
    ): Promise<CommandResult<State>> {
      for (let retry = 0; ; retry++) {
        try {
          return await attempt(streamId, command, handleOptions);
        } catch (error) {
          const canRetry =
            error instanceof ConcurrencyError &&
            handleOptions.expectedVersion === undefined &&
            !handleOptions.tx;
          if (!canRetry || retry >= maxRetries) throw error;
        }
      }
    },
    load: (streamId: string, asOf?: Parameters<typeof loadAggregate>[2]['asOf']) =>
      loadAggregate(eventStore, streamId, {
        decider: decider as Decider<State, unknown, Event>,
        ...(snapshot ? { snapshot } : {}),
        ...(asOf ? { asOf } : {}),
      }),
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
