import { metadataKeys } from '../message/message.ts';
import type { Store } from '../store/index.ts';

/** One service's view of a flow: its name and its store (or any reader of the same two queries). */
export interface FlowSource {
  service: string;
  store: Pick<Store, 'sagas'> & { events: Pick<Store['events'], 'readByCorrelation'> };
}

/** One thing that happened in a flow, in one service. */
export type FlowEntry =
  | {
      kind: 'event';
      at: string;
      service: string;
      type: string;
      streamId: string;
      id: string;
      causationId: string | null;
      /** The W3C trace the event was stored in (its `traceparent`), when tracing was on. */
      traceId?: string;
    }
  | {
      kind: 'step' | 'compensation';
      at: string;
      endedAt: string | null;
      service: string;
      sagaId: string;
      sagaName: string;
      step: string;
      status: string;
      attempts: number;
      error: string | null;
      /** The W3C trace of the work that started the saga (its `traceContext`), when tracing was on. */
      traceId?: string;
    };

/**
 * Everything one flow (correlation id) left in every service: the events each stored and the
 * steps of each saga it ran (a compensated step appears twice: as the step, and as its
 * compensation when it ended), merged into one list ordered by time. What the dashboard's flow
 * view shows; choreography and orchestration alike, as both stamp the same correlation id.
 */
export async function flowTimeline(
  correlationId: string,
  sources: readonly FlowSource[],
  options: { limitPerService?: number } = {},
): Promise<FlowEntry[]> {
  const limit = options.limitPerService ?? 500;
  const perService = await Promise.all(
    sources.map(async ({ service, store }): Promise<FlowEntry[]> => {
      const [events, sagas] = await Promise.all([
        store.events.readByCorrelation(correlationId, { limit }),
        store.sagas.list({ correlationId, limit }),
      ]);
      const eventEntries = events.map(
        (event): FlowEntry => ({
          kind: 'event',
          at: event.occurredAt,
          service,
          type: event.type,
          streamId: event.streamId,
          id: event.id,
          causationId: event.causationId,
          ...traceIdField(event.metadata[metadataKeys.traceparent]),
        }),
      );
      const stepEntries = sagas.flatMap((saga) =>
        saga.steps
          .filter((step) => step.startedAt !== null)
          .flatMap((step): FlowEntry[] => {
            const base = {
              service,
              sagaId: saga.sagaId,
              sagaName: saga.sagaName,
              step: step.name,
              attempts: step.attempts,
              error: step.error,
              ...traceIdField(saga.traceContext?.[metadataKeys.traceparent]),
            };
            const compensated = step.status === 'compensated' || step.status === 'compensating';
            // Records from before compensations had their own times: their endedAt was the compensation's.
            const ownTimes = step.compensationStartedAt != null;
            const invoked: FlowEntry = {
              ...base,
              kind: 'step',
              at: step.startedAt!,
              endedAt: compensated && !ownTimes ? null : step.endedAt,
              status: compensated ? 'succeeded' : step.status,
            };
            if (!compensated) return [invoked];
            return [
              invoked,
              {
                ...base,
                kind: 'compensation',
                at: (ownTimes ? step.compensationStartedAt : step.endedAt) ?? saga.updatedAt,
                endedAt:
                  step.status === 'compensated'
                    ? ((ownTimes ? step.compensationEndedAt : step.endedAt) ?? null)
                    : null,
                status: step.status,
                attempts: step.compensationAttempts,
              },
            ];
          }),
      );
      return [...eventEntries, ...stepEntries];
    }),
  );
  return perService.flat().sort((a, b) => a.at.localeCompare(b.at));
}

/** `{ traceId }` from a W3C `traceparent` (version-traceid-parentid-flags), or nothing from anything else. */
function traceIdField(traceparent: unknown): { traceId?: string } {
  if (typeof traceparent !== 'string') return {};
  const [, version, traceId] =
    /^([0-9a-f]{2})-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}(?:-|$)/.exec(traceparent) ?? [];
  if (version === undefined || version === 'ff' || traceId === undefined || /^0+$/.test(traceId)) return {};
  return { traceId };
}
