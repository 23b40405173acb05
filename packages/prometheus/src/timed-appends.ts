/** Append latency: an event store whose `appendToStream` is timed, from the call to its commit. */
import { type AnyEventDefinition, ConcurrencyError, type EventStore } from '@causeway/core';
import { Histogram, type Registry } from 'prom-client';

const name = 'causeway_append_seconds';
const defaultBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The same event store; each `appendToStream` is observed in `causeway_append_seconds{outcome}`:
 * `ok`, `conflict` (the expected version did not hold) or `error`.
 */
export function timeAppends<Definition extends AnyEventDefinition>(
  eventStore: EventStore<Definition>,
  options: { registry: Registry; buckets?: number[] },
): EventStore<Definition> {
  const appends =
    (options.registry.getSingleMetric(name) as Histogram<'outcome'> | undefined) ??
    new Histogram({
      name,
      help: 'Time from an append to its commit, by outcome: ok, conflict (the expected version did not hold) or error.',
      labelNames: ['outcome'],
      buckets: options.buckets ?? defaultBuckets,
      registers: [options.registry],
    });
  return {
    ...eventStore,
    async appendToStream(streamId, events, appendOptions) {
      const end = appends.startTimer();
      try {
        const outcome = await eventStore.appendToStream(streamId, events, appendOptions);
        end({ outcome: 'ok' });
        return outcome;
      } catch (error) {
        end({ outcome: error instanceof ConcurrencyError ? 'conflict' : 'error' });
        throw error;
      }
    },
  };
}
