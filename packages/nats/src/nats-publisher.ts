import { InvalidArgumentError, partitionOf, type TransportMessage } from '@causeway/core';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { unlessInterrupted } from './nats-connection-events.ts';
import { toTransportError } from './nats-errors.ts';
import { encodeMessage } from './nats-message-codec.ts';
import type { NatsNames } from './nats-names.ts';
import type { NatsProvisioner } from './nats-streams.ts';

export interface PublisherContext {
  connection: () => Promise<{ nc: NatsConnection; js: JetStreamClient }>;
  names: NatsNames;
  provisioner: NatsProvisioner;
  partitions: number;
}

// Room for the Nats-Msg-Id header and the protocol line within the server's max_payload.
const headerAllowance = 512;

/**
 * Publishes a batch and resolves once JetStream acked every message. All publishes are issued
 * in one synchronous loop, so they enter the connection in array order: the server stores the
 * messages of a partition in that order, and if the connection drops mid-batch it has stored a
 * prefix of the batch, never a later message without an earlier one. Acks are awaited together.
 * A re-published id within the stream's duplicate window is dropped by the server (Nats-Msg-Id).
 */
export async function publishMessages(
  context: PublisherContext,
  messages: readonly TransportMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  const { nc, js } = await context.connection();
  const destinations = [...new Set(messages.map((message) => message.destination))];
  // Encode and check everything before sending anything: a message refused half-way would let
  // later messages of its key overtake it.
  const outgoing = messages.map((message) => ({
    message,
    subject: context.names.subject(message.destination, partitionOf(message.orderingKey, context.partitions)),
    data: encodeMessage(message),
  }));
  checkSizes(outgoing, nc.info?.max_payload);
  const forgetStreams = () => {
    for (const destination of destinations) context.provisioner.forgetStream(destination);
  };
  // A request in flight when the connection drops is never answered: fail it at once (see
  // unlessInterrupted) instead of after its timeout, so the caller retries as soon as it can.
  const results = await unlessInterrupted(
    nc,
    `publish ${messages.length} messages`,
    (async () => {
      await Promise.all(destinations.map((destination) => context.provisioner.ensureStream(destination)));
      const acks = outgoing.map(({ subject, data, message }) =>
        js.publish(subject, data, { msgID: message.id }),
      );
      return Promise.allSettled(acks);
    })(),
  ).catch((error) => {
    forgetStreams(); // a stream request may be pending: the next publish asks again
    throw error;
  });
  const failed = results.findIndex((result) => result.status === 'rejected');
  if (failed === -1) return;
  forgetStreams();
  const failure = results[failed] as PromiseRejectedResult;
  const count = results.filter((result) => result.status === 'rejected').length;
  const first = outgoing[failed]?.message;
  throw toTransportError(
    `publish ${count} of ${messages.length} messages (first: ${first?.id} to ${first?.destination})`,
    failure.reason,
    {
      failed: count,
      messageId: first?.id,
    },
  );
}

function checkSizes(
  outgoing: ReadonlyArray<{ message: TransportMessage; data: Uint8Array }>,
  maxPayload: number | undefined,
): void {
  if (maxPayload === undefined) return;
  for (const { message, data } of outgoing) {
    if (data.length + headerAllowance > maxPayload) {
      throw new InvalidArgumentError(
        'messages',
        `Message ${message.id} (${message.type}) is ${data.length} bytes, over the NATS server's max_payload of ${maxPayload}: shrink the payload or raise max_payload; nothing was published`,
        { messageId: message.id, bytes: data.length, maxPayload },
      );
    }
  }
}
