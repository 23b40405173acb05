/**
 * Dev mode's way to put a real entry in a service's dead-letter queue on demand: a message sent
 * through the service's own outbox and transport to a consumer of its own that refuses it on its
 * first attempts. It is a real consumer with the real dead-letter path, so redrive and discard
 * behave as they do for any other message. The consumer subscribes only once a poison is sent.
 */
import {
  type Consumer,
  createConsumer,
  createEventRegistry,
  defineCommand,
  newMessageId,
  type Store,
  type Transport,
} from '@causeway/core';
import { z } from 'zod';

export const poisonType = 'dev.Poison';

const poison = defineCommand({
  type: poisonType,
  /** Attempts refused before the message is handled; a redrive is the next attempt. */
  schema: z.object({ refuseAttempts: z.number().int().nonnegative() }),
});
type PoisonData = z.infer<typeof poison.schema>;

export interface DevPoison {
  readonly consumer: Consumer;
  /** Sends one poison message; it lands in the dead-letter queue at its first attempt. */
  send(options: { refuseAttempts: number }): Promise<{ messageId: string; consumer: string }>;
}

export function createDevPoison(options: { service: string; store: Store; transport: Transport }): DevPoison {
  const { service, store, transport } = options;
  const destination = `${service}.dev`;
  const consumer = createConsumer({
    name: `${service}-dev`,
    store,
    transport,
    destinations: [destination],
    // One attempt: the poison goes to the dead-letter queue at once instead of after backoffs.
    maxAttempts: 1,
    registry: createEventRegistry([poison]),
    handlers: {
      [poisonType]: async (message, { attempt }) => {
        const { refuseAttempts } = message.data;
        if (attempt <= refuseAttempts) {
          throw new Error(
            `poison message refused on attempt ${attempt} of ${refuseAttempts} (dev mode test message)`,
          );
        }
      },
    },
  });
  let subscribed: Promise<void> | undefined;

  return {
    consumer,
    async send({ refuseAttempts }) {
      // Subscribed before the send: a broker may drop what is published to a group not yet there.
      subscribed ??= consumer.start();
      await subscribed;
      const id = newMessageId();
      const data: PoisonData = { refuseAttempts };
      await store.transaction((tx) =>
        store.outbox.enqueue(tx, [
          {
            id,
            destination,
            orderingKey: `poison-${id}`,
            type: poisonType,
            payload: {
              id,
              type: poisonType,
              schemaVersion: 1,
              streamId: `poison-${id}`,
              streamPosition: 0,
              globalPosition: 0,
              correlationId: id,
              causationId: null,
              occurredAt: new Date().toISOString(),
              metadata: {},
              data,
            },
          },
        ]),
      );
      return { messageId: id, consumer: consumer.name };
    },
  };
}
