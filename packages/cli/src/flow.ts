/**
 * A flow across services: every event carrying one correlation id, from each service's database,
 * in the order they occurred (no global position spans databases; clocks order them, and events of
 * the same millisecond keep the order of the databases given).
 */
import type { Store, StoredEvent } from '@causeway/core';
import type { Listing } from './output.ts';

export interface NamedStore {
  /** How the flow names the database: the file's base name, or the URL's database. */
  name: string;
  store: Store;
}

export async function findByCorrelation(
  stores: readonly NamedStore[],
  correlationId: string,
  limit: number,
): Promise<Listing> {
  const found = await Promise.all(
    stores.map(async ({ name, store }) =>
      (await store.events.readByCorrelation(correlationId, { limit })).map((event) => ({ name, event })),
    ),
  );
  const events = found
    .flat()
    .sort((a, b) => a.event.occurredAt.localeCompare(b.event.occurredAt))
    .slice(0, limit);
  return {
    columns: ['occurredAt', 'database', 'stream', 'position', 'type', 'id', 'causationId'],
    rows: events.map(({ name, event }) => ({ ...eventRow(event), database: name })),
    footer: `${events.length} events of ${correlationId} in ${stores.length} database(s)`,
  };
}

export function eventRow(event: StoredEvent) {
  return {
    occurredAt: event.occurredAt,
    stream: event.streamId,
    position: event.streamPosition,
    type: event.type,
    id: event.id,
    causationId: event.causationId,
  };
}
