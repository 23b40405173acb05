/**
 * Message handling time, measured where every consumer of a service meets the broker: a Transport
 * whose subscriptions time each delivery from its arrival until its handler resolved, which for a
 * Causeway consumer covers decoding, the inbox check, the transaction, the commit and the ack.
 */
import type { Delivery, Transport } from '@causeway/core';
import { Histogram, type Registry } from 'prom-client';

const name = 'causeway_message_handling_seconds';
const defaultBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface TimedDeliveriesOptions {
  registry: Registry;
  /** In seconds. */
  buckets?: number[];
}

/**
 * The same transport (its `consumerLag`, if it has one, included); each delivery its subscriptions
 * hand out is observed in `causeway_message_handling_seconds{consumer, type, outcome}`: `consumer`
 * is the subscription's group, `outcome` `acked`, `retried` (the handler asked for a redelivery),
 * or `error` (it threw).
 */
export function timeDeliveries(transport: Transport, options: TimedDeliveriesOptions): Transport {
  const registered = options.registry.getSingleMetric(name);
  const handling =
    (registered as Histogram<'consumer' | 'type' | 'outcome'> | undefined) ??
    new Histogram({
      name,
      help: 'Time from a delivery to its handled end (acked, retried or failed), by consumer, message type and outcome.',
      labelNames: ['consumer', 'type', 'outcome'],
      buckets: options.buckets ?? defaultBuckets,
      registers: [options.registry],
    });
  const consumerLag = transport.consumerLag?.bind(transport);
  return {
    get name() {
      return transport.name;
    },
    ...(consumerLag && { consumerLag }),
    publish: (messages) => transport.publish(messages),
    close: () => transport.close(),
    subscribe(subscribeOptions, handler) {
      return transport.subscribe(subscribeOptions, async (delivery) => {
        const end = handling.startTimer({ consumer: subscribeOptions.group, type: delivery.message.type });
        let outcome = 'error';
        const observed: Delivery = {
          message: delivery.message,
          attempt: delivery.attempt,
          ack: () => {
            outcome = 'acked';
            return delivery.ack();
          },
          retry: (delayMs) => {
            outcome = 'retried';
            return delivery.retry(delayMs);
          },
        };
        try {
          await handler(observed);
        } catch (error) {
          outcome = 'error';
          throw error;
        } finally {
          end({ outcome });
        }
      });
    },
  };
}
