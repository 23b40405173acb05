import { ConfigurationError } from '@causeway/core';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { toTransportError } from './nats-errors.ts';
import type { NatsNames } from './nats-names.ts';

const streamNameInUse = 10058;
const consumerAlreadyExists = 10148;

export interface StreamSettings {
  duplicateWindowMs: number;
  replicas: number;
  /** JetStream deletes a message older than this, consumed or not; 0 keeps messages forever. */
  maxAgeMs: number;
}

/** Creates streams and consumers idempotently; remembers the streams it already ensured. */
export interface NatsProvisioner {
  /** The stream of a destination, created or brought to the configured settings once per process. */
  ensureStream(destination: string): Promise<string>;
  /** Forget a stream (it may have been deleted); the next `ensureStream` checks again. */
  forgetStream(destination: string): void;
  ensureConsumer(options: {
    destination: string;
    group: string;
    partition: number;
    ackTimeoutMs: number;
  }): Promise<string>;
}

export function createNatsProvisioner(
  jsm: () => Promise<JetStreamManager>,
  names: NatsNames,
  settings: StreamSettings,
): NatsProvisioner {
  const ensured = new Map<string, Promise<string>>();
  return {
    ensureStream(destination) {
      let stream = ensured.get(destination);
      if (!stream) {
        stream = jsm().then((manager) =>
          addOrUpdateStream(manager, streamConfig(names, destination, settings)),
        );
        // A failed attempt is not remembered: the next call tries again.
        stream.catch(() => ensured.delete(destination));
        ensured.set(destination, stream);
      }
      return stream;
    },
    forgetStream(destination) {
      ensured.delete(destination);
    },
    async ensureConsumer({ destination, group, partition, ackTimeoutMs }) {
      const stream = await this.ensureStream(destination);
      const name = names.consumerName(group, partition);
      const config = {
        durable_name: name,
        filter_subject: names.subject(destination, partition),
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(ackTimeoutMs),
        // One unacknowledged message per partition, whichever process pulled it: per-key order
        // holds with competing consumers, and across redeliveries.
        max_ack_pending: 1,
        // Unlimited: the consumer runtime counts attempts and dead-letters.
        max_deliver: -1,
        deliver_policy: DeliverPolicy.All,
      };
      const manager = await jsm();
      try {
        await manager.consumers.add(stream, config);
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === consumerAlreadyExists)) {
          throw toTransportError(`create consumer ${name} on stream ${stream}`, error, {
            stream,
            consumer: name,
          });
        }
        const { durable_name: _, deliver_policy: __, ...changeable } = config;
        await manager.consumers.update(stream, name, changeable);
      }
      return name;
    },
  };
}

function streamConfig(
  names: NatsNames,
  destination: string,
  settings: StreamSettings,
): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: names.streamName(destination),
    subjects: [names.streamSubject(destination)],
    storage: StorageType.File,
    // Limits, not interest or work-queue: every group reads every message, including messages
    // published before the group's first subscribe.
    retention: RetentionPolicy.Limits,
    // Retention by age only (no size or count limit): the oldest messages go first.
    max_age: nanos(settings.maxAgeMs),
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(settings.duplicateWindowMs),
    num_replicas: settings.replicas,
  };
}

async function addOrUpdateStream(
  manager: JetStreamManager,
  config: Partial<StreamConfig> & { name: string; subjects: string[] },
): Promise<string> {
  try {
    await manager.streams.add(config);
    return config.name;
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === streamNameInUse)) {
      throw toTransportError(`create stream ${config.name}`, error, { stream: config.name });
    }
  }
  // The stream exists with other settings: adopt it if it holds the same subjects, else refuse
  // rather than rewrite someone else's stream.
  const existing = (await manager.streams.info(config.name)).config;
  if (existing.subjects.join(' ') !== config.subjects.join(' ')) {
    throw new ConfigurationError(
      `NATS stream ${config.name} exists with subjects ${existing.subjects.join(', ')}, expected ${config.subjects.join(', ')}: use another streamPrefix or delete the stream`,
      { stream: config.name, subjects: existing.subjects },
    );
  }
  await manager.streams.update(config.name, {
    ...existing,
    max_age: config.max_age,
    discard: config.discard,
    duplicate_window: config.duplicate_window,
    num_replicas: config.num_replicas,
  });
  return config.name;
}
