/**
 * A service's event log as a bronze source: its `/admin/events` pages, read in global order and
 * gap-safe (an event committed late at a lower position is never skipped), each event shaped as
 * the row change capture would give for the same event: `op` 'c' on table `events`, the row's
 * columns in `after`. One envelope whichever path an event took, so one set of models serves both.
 */
import type { Message } from '@causeway/core';
import type { BronzeChange } from '@causeway/lakehouse';
import type { ServiceClient } from '../../platform/service-client.ts';
import { serviceHistory } from '../query/source-history.ts';

/** What bronze ingests from a source that is read page by page. */
export interface PulledPage {
  changes: BronzeChange[];
  /** The position the page reached, stored with the batch. */
  position: bigint;
  /** Where the next page starts (opaque to bronze). */
  cursor: string;
  /** True when the source had nothing more to give. */
  caughtUp: boolean;
}

export interface PullSource {
  readonly name: string;
  pull(from: { position: bigint; cursor: string | null } | null, limit: number): Promise<PulledPage>;
}

/** The row an event store keeps for an event (PostgreSQL's column names). */
export function eventRow(event: Message): Record<string, unknown> {
  return {
    event_id: event.id,
    type: event.type,
    schema_version: event.schemaVersion,
    stream_id: event.streamId,
    stream_position: event.streamPosition,
    global_position: event.globalPosition,
    correlation_id: event.correlationId,
    causation_id: event.causationId,
    occurred_at: event.occurredAt,
    metadata: event.metadata,
    data: event.data,
  };
}

/** An event as a bronze change: created on table `events`, at the event's global position. */
export function bronzeChangeOfEvent(service: string, event: Message): BronzeChange {
  return {
    id: event.id,
    source: service,
    table: 'events',
    op: 'c',
    key: { global_position: event.globalPosition },
    before: null,
    after: eventRow(event),
    committedAt: event.occurredAt,
    position: BigInt(event.globalPosition),
  };
}

export function eventLogSource(call: ServiceClient, service: string): PullSource {
  const history = serviceHistory(call, service);
  return {
    name: service,
    async pull(from, limit) {
      const page = await history.read(
        { after: from === null ? 0 : Number(from.position), cursor: from?.cursor ?? null },
        limit,
      );
      const changes = page.events.map((event) => bronzeChangeOfEvent(service, event));
      return {
        changes,
        position: BigInt(page.position),
        cursor: page.cursor,
        caughtUp: page.events.length < limit,
      };
    },
  };
}
