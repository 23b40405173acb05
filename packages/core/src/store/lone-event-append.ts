import type { AppendRequest, AppendResult, EventToStore, OutboxMessage } from './store.ts';

/** An event's columns after its positions, as both backends store them (JSON as text). */
export function eventColumnValues(event: EventToStore): unknown[] {
  return [
    event.type,
    event.schemaVersion,
    event.correlationId,
    event.causationId,
    event.occurredAt,
    JSON.stringify(event.metadata ?? {}),
    JSON.stringify(event.data ?? null),
  ];
}

/**
 * The parameters of the one-statement append both backends use for the most common write: one
 * event, no outbox. Null when the request is anything else. `versionCheck` encodes the expected
 * version for a SQL `CASE`: -1 any, -2 stream exists, n (0 = no stream) exact.
 */
export function toLoneEventAppend(request: AppendRequest) {
  const event = request.events[0];
  if (request.events.length !== 1 || !event || (request.outbox?.length ?? 0) > 0 || request.publishTo)
    return null;
  const expected = request.expectedVersion;
  const versionCheck =
    expected === 'any' ? -1 : expected === 'streamExists' ? -2 : expected === 'noStream' ? 0 : expected;
  return {
    versionCheck,
    /** id, stream id, type, schema version, correlation, causation, occurred at, metadata, data. */
    eventParams: [event.id, request.streamId, ...eventColumnValues(event)],
  };
}

/**
 * The outbox rows of an append with `publishTo`: one per event, keyed by its stream, the payload
 * the event's envelope with its positions (what a consumer receives as the message). PostgreSQL's
 * `append_many` builds the same rows in SQL.
 */
export function appendedEventsOutbox(request: AppendRequest, result: AppendResult): OutboxMessage[] {
  const destination = request.publishTo;
  if (!destination || result.deduplicated) return [];
  return request.events.map((event, index) => ({
    id: event.id,
    destination,
    orderingKey: request.streamId,
    type: event.type,
    payload: { ...event, ...result.positions[index]! },
  }));
}
