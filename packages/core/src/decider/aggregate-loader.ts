import type { EventStore } from '../event-store/index.ts';
import { assertIsoTime, assertPosition } from '../guards/index.ts';
import type { Transaction } from '../store/index.ts';
import type { Decider, DomainEvent } from './decider.ts';

/** When and how an aggregate type is snapshotted. */
export interface SnapshotPolicy<State> {
  aggregateType: string;
  /** Take a snapshot each time the stream crosses a multiple of this many events. */
  every: number;
  /** Bump when `evolve` changes: snapshots of another version are ignored and rebuilt from events. */
  version: number;
  /** The subject whose personal data the state holds: the snapshot is encrypted with its key. */
  subject?: (state: State, streamId: string) => string | null;
}

/** "As of" for temporal reads: a stream version, or a point in time (by occurredAt). */
export type AsOf = { version: number } | { time: string };

export interface LoadedAggregate<State> {
  state: State;
  /** The stream version the state reflects (0: no events). */
  version: number;
  /** Stream version of the snapshot the load started from, if one was used. */
  fromSnapshot: number | null;
}

const pageSize = 1000;

/**
 * Loads an aggregate: its latest valid snapshot plus the later events, or (for `asOf`) the state
 * at an earlier version or time. A snapshot of another `version` or a forgotten subject is ignored.
 */
export async function loadAggregate<State, Event extends DomainEvent>(
  eventStore: EventStore,
  streamId: string,
  options: {
    decider: Decider<State, unknown, Event>;
    snapshot?: SnapshotPolicy<State>;
    asOf?: AsOf;
    tx?: Transaction | null;
  },
): Promise<LoadedAggregate<State>> {
  const { decider, asOf } = options;
  const tx = options.tx ?? null;
  if (asOf && 'version' in asOf) assertPosition(asOf.version, 'asOf.version');
  if (asOf && 'time' in asOf) assertIsoTime(asOf.time, 'asOf.time');
  const maxVersion = asOf && 'version' in asOf ? asOf.version : Number.MAX_SAFE_INTEGER;
  const occurredUntil = asOf && 'time' in asOf ? asOf.time : undefined;

  let state = decider.initialState();
  let version = 0;
  let fromSnapshot: number | null = null;
  // Snapshots carry no event times, so time travel always replays from the start.
  if (options.snapshot && !occurredUntil) {
    const snapshot = await eventStore.store.snapshots.load(tx, streamId);
    if (
      snapshot &&
      snapshot.snapshotVersion === options.snapshot.version &&
      snapshot.streamVersion <= maxVersion
    ) {
      const opened = await eventStore.cipher.openDocument(tx, snapshot.state);
      if (opened !== null) {
        state = opened as State;
        version = snapshot.streamVersion;
        fromSnapshot = version;
      }
    }
  }
  while (version < maxVersion) {
    const events = await eventStore.readStream(streamId, {
      fromVersion: version + 1,
      limit: Math.min(pageSize, maxVersion - version),
      tx,
      ...(occurredUntil ? { occurredUntil } : {}),
    });
    for (const event of events) {
      state = decider.evolve(state, event as unknown as Event);
      version = event.streamPosition;
    }
    if (events.length < pageSize) break;
  }
  return { state, version, fromSnapshot };
}
