import type { StoredEvent } from '@causeway/core';

/** The columns every event read selects, in the shape `toStoredEvent` expects. */
export const eventColumns = `global_position, stream_id, stream_position, event_id, type, schema_version,
  correlation_id, causation_id, occurred_at, metadata, data`;

export interface EventRow {
  global_position: number;
  stream_id: string;
  stream_position: number;
  event_id: string;
  type: string;
  schema_version: number;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_at: Date;
  metadata: Record<string, unknown>;
  data: unknown;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamPosition: row.stream_position,
    globalPosition: row.global_position,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    occurredAt: row.occurred_at.toISOString(),
    metadata: row.metadata,
    data: row.data,
  };
}
