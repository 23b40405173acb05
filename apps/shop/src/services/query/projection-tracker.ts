/**
 * Wraps the query service's event handlers so that, in each handler's own transaction, the read
 * models record how far they are per source service (position, events applied) and skip an event
 * their stream already applied. That skip is what lets a rebuild replay the sources while the
 * consumer's unacknowledged messages are redelivered afterwards: nothing is applied twice.
 * Commits also feed the consistency window (event written → visible here).
 */
import {
  createEventRegistry,
  type Message,
  type MessageContext,
  type MessageHandler,
  type MessageHandlers,
  type Transaction,
} from '@causeway/core';
import type { LatencyHistogram } from '../../platform/latency-histogram.ts';
import { catalogRegistry } from '../catalog/catalog-domain.ts';
import { ordersRegistry } from '../orders/orders-domain.ts';
import { usersRegistry } from '../users/users-domain.ts';

/** The services whose events the read models are built from. */
export const projectionSources = ['catalog', 'users', 'orders'] as const;
export type ProjectionSource = (typeof projectionSources)[number];
/** Every event the read models consume, validated on arrival against its owner's definition. */
export const sourceRegistry = createEventRegistry([
  ...catalogRegistry.definitions,
  ...usersRegistry.definitions,
  ...ordersRegistry.definitions,
]);
export type SourceHandlers = MessageHandlers<(typeof sourceRegistry.definitions)[number]>;
const typesOf: Record<ProjectionSource, readonly string[]> = {
  catalog: catalogRegistry.types,
  users: usersRegistry.types,
  orders: ordersRegistry.types,
};

export const trackerDdl = [
  `CREATE TABLE IF NOT EXISTS projection_sources (source TEXT PRIMARY KEY, position BIGINT NOT NULL,
     applied BIGINT NOT NULL, last_applied_at TEXT NOT NULL, last_event_at TEXT NOT NULL)`,
];

export interface SourcePosition {
  source: ProjectionSource;
  /** Highest global position of the source's log applied here. */
  position: number;
  /** Events of that source applied since the read models were last built from scratch. */
  applied: number;
  lastAppliedAt: string | null;
}

export function sourceOf(type: string): ProjectionSource | undefined {
  return projectionSources.find((source) => typesOf[source].includes(type));
}

export function createProjectionTracker(options: { histogram: LatencyHistogram }) {
  let rebuilding = false;

  /** Applies one event unless its stream is already past it; true when it was applied. */
  async function applyOnce(
    event: Message,
    context: MessageContext,
    handler: MessageHandler | undefined,
  ): Promise<boolean> {
    const { tx } = context;
    const source = sourceOf(event.type);
    const hasPosition = Number.isInteger(event.streamPosition) && event.streamPosition > 0;
    if (hasPosition && (await appliedVersion(tx, event.streamId)) >= event.streamPosition) return false;
    if (handler) await handler(event, context);
    if (hasPosition) await markStreamApplied(tx, event.streamId, event.streamPosition);
    if (source) await markSourceApplied(tx, source, event);
    return true;
  }

  return {
    /** Handlers for every type of every source; types without a handler are tracked all the same. */
    track(typedHandlers: SourceHandlers): SourceHandlers {
      const handlers = typedHandlers as Readonly<Record<string, MessageHandler>>;
      const types = new Set([
        ...Object.keys(handlers),
        ...projectionSources.flatMap((source) => typesOf[source]),
      ]);
      return Object.fromEntries(
        [...types].map((type) => [
          type,
          async function trackedHandler(event: Message, context: MessageContext) {
            // A straggler that slipped past the paused consumer: rolled back, redelivered later.
            if (rebuilding) throw new Error('The query read models are being rebuilt; redelivered after');
            if (await applyOnce(event, context, handlers[type])) {
              context.tx.onCommit(() => options.histogram.record(Date.now() - Date.parse(event.occurredAt)));
            }
          },
        ]),
      );
    },
    /** A replayed event, in the rebuild's transaction (no consistency sample: it is not a live write). */
    replay(event: Message, tx: Transaction, handlers: Readonly<Record<string, MessageHandler>>) {
      return applyOnce(event, { tx, attempt: 1, send: async () => {} }, handlers[event.type]);
    },
    setRebuilding(value: boolean) {
      rebuilding = value;
    },
  };
}

export type ProjectionTracker = ReturnType<typeof createProjectionTracker>;

async function appliedVersion(tx: Transaction, streamId: string): Promise<number> {
  const [row] = await tx.query<{ version: number | string }>(
    'SELECT version FROM applied_streams WHERE stream_id = $1',
    [streamId],
  );
  return row ? Number(row.version) : 0;
}

function markStreamApplied(tx: Transaction, streamId: string, version: number) {
  return tx.execute(
    `INSERT INTO applied_streams (stream_id, version) VALUES ($1, $2)
     ON CONFLICT (stream_id) DO UPDATE SET version = CASE WHEN applied_streams.version > excluded.version
       THEN applied_streams.version ELSE excluded.version END`,
    [streamId, version],
  );
}

function markSourceApplied(tx: Transaction, source: ProjectionSource, event: Message) {
  return tx.execute(
    `INSERT INTO projection_sources (source, position, applied, last_applied_at, last_event_at) VALUES ($1, $2, 1, $3, $4)
     ON CONFLICT (source) DO UPDATE SET
       position = CASE WHEN projection_sources.position > excluded.position THEN projection_sources.position ELSE excluded.position END,
       applied = projection_sources.applied + 1, last_applied_at = excluded.last_applied_at, last_event_at = excluded.last_event_at`,
    [source, event.globalPosition ?? 0, new Date().toISOString(), event.occurredAt],
  );
}

export async function readSourcePositions(tx: Transaction): Promise<SourcePosition[]> {
  const rows = await tx.query<{
    source: string;
    position: number | string;
    applied: number | string;
    last_applied_at: string;
  }>('SELECT source, position, applied, last_applied_at FROM projection_sources');
  return projectionSources.map((source) => {
    const row = rows.find((each) => each.source === source);
    return {
      source,
      position: Number(row?.position ?? 0),
      applied: Number(row?.applied ?? 0),
      lastAppliedAt: row?.last_applied_at ?? null,
    };
  });
}
