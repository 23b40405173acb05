import type { ConsumerLag } from '@causeway/core';
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { toTransportError } from './nats-errors.ts';
import type { NatsNames } from './nats-names.ts';

const streamNotFound = 10059;

export interface ConsumerLagRequest {
  jsm: JetStreamManager;
  names: NatsNames;
  partitions: number;
  /** Destination → the groups to report on it. */
  subscribed: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Per (group, destination), the sum over the group's partition consumers of `num_pending` (in the
 * stream, not delivered yet) and `num_ack_pending` (delivered, not acked): one consumer-list request
 * per destination's stream, however many groups and partitions. A missing stream counts 0 (it holds
 * nothing), and so does a missing consumer until its subscription recreates it.
 */
export async function readConsumerLag(request: ConsumerLagRequest): Promise<ConsumerLag[]> {
  const perDestination = await Promise.all(
    [...request.subscribed].map(async ([destination, groups]) => {
      const pendingByConsumer = await pendingOfStream(request.jsm, request.names.streamName(destination));
      return [...groups].map((group) => {
        let pending = 0;
        for (let partition = 0; partition < request.partitions; partition++) {
          pending += pendingByConsumer.get(request.names.consumerName(group, partition)) ?? 0;
        }
        return { group, destination, pending };
      });
    }),
  );
  return perDestination.flat();
}

/** Consumer name → messages it has not had acked, for every consumer of the stream. */
async function pendingOfStream(jsm: JetStreamManager, stream: string): Promise<Map<string, number>> {
  const pending = new Map<string, number>();
  try {
    for await (const info of jsm.consumers.list(stream)) {
      pending.set(info.name, info.num_pending + info.num_ack_pending);
    }
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === streamNotFound) return pending;
    throw toTransportError(`read the consumers of stream ${stream}`, error, { stream });
  }
  return pending;
}
