/**
 * What each command reads, as rows. Everything goes through the Store port or plain SQL over
 * Causeway's own tables (`$1` placeholders on both backends), read-only.
 */
import { type SagaStatus, type Store, sagaStepLabel } from '@causeway/core';
import type { Listing } from './output.ts';

export async function listStreams(store: Store, limit: number): Promise<Listing> {
  const rows = await store.transaction((tx) =>
    tx.query<{ stream_id: string; version: number | string }>(
      'SELECT stream_id, max(stream_position) AS version FROM events GROUP BY stream_id ORDER BY stream_id LIMIT $1',
      [limit],
    ),
  );
  const { streams, events } = await store.events.census();
  return {
    columns: ['stream', 'version'],
    rows: rows.map((row) => ({ stream: row.stream_id, version: Number(row.version) })),
    footer: `${rows.length} of ${streams} streams, ${events} events`,
  };
}

export async function showStream(
  store: Store,
  streamId: string,
  options: { limit: number; asOf?: string },
): Promise<Listing> {
  const events = await store.events.readStream(null, streamId, {
    direction: 'forward',
    fromVersion: 1,
    limit: options.limit,
    ...(options.asOf ? { occurredUntil: options.asOf } : {}),
  });
  return {
    columns: ['position', 'type', 'occurredAt', 'data'],
    rows: events.map((event) => ({
      position: event.streamPosition,
      type: event.type,
      occurredAt: event.occurredAt,
      data: event.data,
      ...(event.correlationId ? { correlationId: event.correlationId } : {}),
    })),
    footer: options.asOf ? `as of ${options.asOf}` : `${events.length} events`,
  };
}

export async function outboxStatus(store: Store): Promise<Listing> {
  const backlog = await store.outbox.backlog();
  return {
    columns: ['unpublished', 'oldestAgeSeconds'],
    rows: [{ unpublished: backlog.count, oldestAgeSeconds: backlog.oldestAgeMs / 1000 }],
  };
}

export async function listDeadLetters(
  store: Store,
  options: { limit: number; status?: string },
): Promise<Listing> {
  const entries = await store.deadLetters.list({
    limit: options.limit,
    ...(options.status ? { status: options.status as never } : {}),
  });
  return {
    columns: ['sequence', 'consumer', 'status', 'type', 'orderingKey', 'attempts', 'lastSeenAt', 'reason'],
    rows: entries.map((entry) => ({
      sequence: entry.sequence,
      consumer: entry.consumer,
      status: entry.status,
      type: (entry.message as { type?: string }).type ?? '',
      orderingKey: entry.orderingKey,
      attempts: entry.attempts,
      lastSeenAt: entry.lastSeenAt,
      reason: entry.reason,
    })),
  };
}

/** One dead letter, the message it holds included. */
export async function showDeadLetter(store: Store, sequence: number): Promise<Listing | null> {
  const entry = await store.deadLetters.get(null, sequence);
  if (!entry) return null;
  return {
    columns: ['field', 'value'],
    rows: Object.entries(entry).map(([field, value]) => ({ field, value })),
  };
}

export async function listSagas(
  store: Store,
  options: { limit: number; status?: SagaStatus },
): Promise<Listing> {
  const [sagas, counts] = await Promise.all([
    store.sagas.list({ limit: options.limit, ...(options.status ? { status: options.status } : {}) }),
    store.sagas.countByStatus(),
  ]);
  return {
    columns: ['sagaId', 'sagaName', 'status', 'step', 'wakeAt', 'updatedAt', 'reason'],
    rows: sagas.map((saga) => ({
      sagaId: saga.sagaId,
      sagaName: saga.sagaName,
      status: saga.status,
      step: sagaStepLabel(saga),
      wakeAt: saga.wakeAt,
      updatedAt: saga.updatedAt,
      reason: saga.reason,
    })),
    footer: Object.entries(counts)
      .map(([status, count]) => `${status} ${count}`)
      .join(', '),
  };
}

export async function showSaga(store: Store, sagaId: string): Promise<Listing | null> {
  const saga = await store.sagas.get(null, sagaId);
  if (!saga) return null;
  return {
    columns: ['field', 'value'],
    rows: Object.entries(saga).map(([field, value]) => ({ field, value })),
  };
}

/** Each projection's checkpoint: where it stands in its own log, how far behind the head, and since when. */
export async function projectionCheckpoints(store: Store): Promise<Listing> {
  const [checkpoints, head] = await Promise.all([store.checkpoints.list(), store.events.headPosition()]);
  return {
    columns: ['projection', 'generation', 'position', 'behind', 'updatedAt'],
    rows: checkpoints.map((checkpoint) => ({
      projection: checkpoint.name,
      generation: checkpoint.generation,
      position: checkpoint.position,
      behind: Math.max(0, head - checkpoint.position),
      updatedAt: checkpoint.updatedAt,
    })),
    footer: `the log's head is at ${head}`,
  };
}

/** PostgreSQL's replication slots: who reads them, and how much WAL each holds back. */
export async function replicationSlots(store: Store): Promise<Listing> {
  const slots = await store.transaction((tx) =>
    tx.query<{
      slot_name: string;
      plugin: string | null;
      active: boolean;
      wal_status: string | null;
      behind_bytes: number | string | null;
    }>(
      `SELECT slot_name, plugin, active, wal_status,
              pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS behind_bytes
         FROM pg_replication_slots WHERE database = current_database() ORDER BY slot_name`,
    ),
  );
  return {
    columns: ['slot', 'plugin', 'active', 'walStatus', 'behindBytes'],
    rows: slots.map((slot) => ({
      slot: slot.slot_name,
      plugin: slot.plugin,
      active: slot.active,
      walStatus: slot.wal_status,
      behindBytes: slot.behind_bytes === null ? null : Number(slot.behind_bytes),
    })),
    footer: `${slots.length} slot${slots.length === 1 ? '' : 's'} in this database`,
  };
}
