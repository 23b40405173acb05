import { ConfigurationError } from '../errors/index.ts';
import type { EventStore } from '../event-store/index.ts';
import type { EventRegistry, Message } from '../message/index.ts';

/** One page of a source's history, in the order of its log. */
export interface SourceHistoryPage {
  events: Message[];
  /** Where the next page starts: pass it back as `from.cursor`. */
  cursor: string;
  /** The log position this page reached (events may be fewer: a gap not yet final holds it). */
  position: number;
}

/** Statistics of a source's log, for lag: its head, how many events it holds, the first after a position. */
export interface SourceStats {
  head: number;
  count: number;
  firstAfterAt: string | null;
}

/**
 * Another service's event log, read from its beginning: what a rebuild replays, and how lag is
 * measured. Reading must never skip an event that commits later at a lower position (the owner's
 * store reads gap-safe); it may answer fewer events than asked while a gap is open.
 */
export interface SourceHistory {
  read(from: { after: number; cursor: string | null }, limit: number): Promise<SourceHistoryPage>;
  stats(after: number): Promise<SourceStats>;
}

/** The service's own event log, read in global order from the projection's checkpoint. */
export interface LogSource {
  readonly kind: 'log';
  readonly name: string;
}

/**
 * Another service's events, delivered live by a consumer on `destination` (at least once, in
 * order per stream) and replayed from `history` on rebuild. Each event is applied at most once
 * per stream version, so redeliveries and a replay overlapping live delivery apply nothing twice.
 */
export interface SubscriptionSource {
  readonly kind: 'subscription';
  /** The owning service, as status and lag name it. */
  readonly name: string;
  readonly destination: string;
  /** Definitions of the events it publishes: deliveries are upcast and validated against them. */
  readonly registry: EventRegistry;
  readonly history: SourceHistory;
}

export type ProjectionSource = LogSource | SubscriptionSource;

/** The service's own log: the default source of a projection runner. */
export function ownLog(name = 'log'): LogSource {
  return { kind: 'log', name };
}

/** Another service's events: see SubscriptionSource. */
export function subscribeTo(options: Omit<SubscriptionSource, 'kind'>): SubscriptionSource {
  if (!options.name || !options.destination) {
    throw new ConfigurationError('A subscription source needs the owning service name and a destination');
  }
  return { kind: 'subscription', ...options };
}

/**
 * An event store's log as a history: what a rebuild replays of the own log, and, for services in
 * one process (or a test), another store's log. Its count is the head: an upper bound where
 * positions have gaps (PostgreSQL), exact where they have none.
 */
export function eventStoreHistory(eventStore: EventStore): SourceHistory {
  return {
    async read(from, limit) {
      const position = from.cursor === null ? from.after : Number(from.cursor);
      const batch = await eventStore.readAll({ position }, { limit });
      return { events: batch.events, cursor: String(batch.cursor.position), position: batch.cursor.position };
    },
    async stats(after) {
      const head = await eventStore.store.events.headPosition();
      const next = await eventStore.store.events.readAll({ position: after }, { limit: 1 });
      // Positions may have gaps: the head is the count's upper bound, exact enough for lag.
      return { head, count: head, firstAfterAt: next.events[0]?.occurredAt ?? null };
    },
  };
}
