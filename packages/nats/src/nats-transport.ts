import {
  ConfigurationError,
  defaultPartitions,
  partitionOf,
  type Subscription,
  type Transport,
} from '@causeway/core';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describeAckDurability, fetchVarz } from './ack-durability.ts';
import { readConsumerLag } from './nats-consumer-lag.ts';
import { toTransportError, transportClosedError } from './nats-errors.ts';
import { createNatsNames } from './nats-names.ts';
import { publishMessages } from './nats-publisher.ts';
import { createNatsProvisioner } from './nats-streams.ts';
import { subscribeToPartitions } from './nats-subscription.ts';

export interface NatsTransportOptions {
  /** NATS server URLs, comma-separated, e.g. `nats://127.0.0.1:4222`. */
  servers: string;
  /** Partitions per destination; every publisher and subscriber of a destination must agree. */
  partitions?: number;
  /** First token of every subject and stream name (default `CW`): isolates deployments and tests. */
  streamPrefix?: string;
  /** How long JetStream remembers a message id to drop a re-publish (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Stream replicas (default 1). 3 on a cluster makes an ack survive the loss of a server. */
  replicas?: number;
  /**
   * Retention: JetStream deletes a message older than this, whether or not every group has
   * consumed it (stream `max_age`; default 7 days; `Infinity`: never). At least
   * `duplicateWindowMs`. A changed value is applied to existing streams.
   */
  maxAgeMs?: number;
  /** Monitoring endpoint (e.g. `http://127.0.0.1:8222`): lets the transport check `sync_interval`. */
  monitorUrl?: string;
  /** Where warnings go (non-durable acks, failing pulls, handler errors); default console.warn. */
  onWarning?: (message: string, error?: unknown) => void;
  /**
   * How long a partition whose consumer has messages waiting may deliver nothing to a subscriber
   * before the watchdog logs the consumer's state and restarts the pull (default 3 × the
   * subscription's ackTimeoutMs, at least 10 s; `Infinity` turns the watchdog off).
   */
  stalledPartitionMs?: number;
}

interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export const defaultStreamPrefix = 'CW';
export const defaultDuplicateWindowMs = 120_000;
export const defaultMaxAgeMs = 7 * 24 * 60 * 60 * 1000;
const requestTimeoutMs = 10_000;

/**
 * The Transport over NATS JetStream. A stream per destination, a subject per partition, a durable
 * pull consumer per (group, partition) with one unacked message at a time: at least once, in order
 * per key within a group. publish() resolves on JetStream's acks; what makes such an ack survive a
 * power loss is described in ack-durability.ts (`sync_interval: always`, or replicas >= 3).
 * `consumerLag()` reports, per (group, destination) this instance subscribed to, the messages of
 * the group's partition consumers not acked yet: not delivered (`num_pending`) plus delivered and
 * unacked (`num_ack_pending`), whichever process pulls them.
 */
export function createNatsTransport(options: NatsTransportOptions): Transport {
  const settings = checkOptions(options);
  const warn =
    options.onWarning ??
    ((message: string, error?: unknown) => console.warn(`[causeway/nats] ${message}`, error ?? ''));
  const names = createNatsNames(options.streamPrefix ?? defaultStreamPrefix);
  let connecting: Promise<Connected> | undefined;
  let closing: Promise<void> | undefined;
  const subscriptions = new Set<Subscription>();
  /** Destination → groups this instance subscribed to, for `consumerLag`; never forgotten. */
  const subscribed = new Map<string, Set<string>>();

  const connection = (action: string): Promise<Connected> => {
    if (closing) return Promise.reject(transportClosedError(action));
    connecting ??= openConnection(options, settings.replicas, warn).catch((error) => {
      connecting = undefined; // the next call tries again
      throw error;
    });
    return connecting;
  };
  const provisioner = createNatsProvisioner(
    async () => (await connection('create streams')).jsm,
    names,
    settings,
  );

  return {
    name: 'nats',
    async publish(messages) {
      if (messages.length === 0) return;
      const connected = () => connection('publish');
      await publishMessages(
        { connection: connected, names, provisioner, partitions: settings.partitions },
        messages,
      );
    },
    async subscribe(subscribeOptions, handler) {
      const { js } = await connection('subscribe');
      const context = {
        js,
        names,
        provisioner,
        partitions: settings.partitions,
        warn,
        stalledPartitionMs: options.stalledPartitionMs,
      };
      const inner = await subscribeToPartitions(context, subscribeOptions, handler);
      if (closing) {
        // close() began while the consumers were being created: it cannot see this subscription.
        await inner.close();
        throw transportClosedError('subscribe');
      }
      const subscription: Subscription = {
        close: () => inner.close().finally(() => subscriptions.delete(subscription)),
      };
      subscriptions.add(subscription);
      for (const destination of subscribeOptions.destinations) {
        const groups = subscribed.get(destination) ?? new Set<string>();
        subscribed.set(destination, groups.add(subscribeOptions.group));
      }
      return subscription;
    },
    async consumerLag() {
      if (closing) throw transportClosedError('read consumer lag');
      if (subscribed.size === 0) return [];
      const { jsm } = await connection('read consumer lag');
      return readConsumerLag({ jsm, names, partitions: settings.partitions, subscribed });
    },
    close() {
      closing ??= (async () => {
        await Promise.all([...subscriptions].map((subscription) => subscription.close()));
        const connected = await connecting?.catch(() => undefined);
        // Acks are plain publishes still in the outbound buffer (see nats-delivery.ts): send them.
        await connected?.nc.flush().catch(() => {});
        await connected?.nc.close();
      })();
      return closing;
    },
  };
}

function checkOptions(options: NatsTransportOptions) {
  if (!options.servers) throw new ConfigurationError('NATS servers must be set, e.g. nats://127.0.0.1:4222');
  const partitions = options.partitions ?? defaultPartitions;
  partitionOf('', partitions); // throws on an invalid partition count
  const duplicateWindowMs = options.duplicateWindowMs ?? defaultDuplicateWindowMs;
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(duplicateWindowMs) || duplicateWindowMs < 1000) {
    throw new ConfigurationError(
      `NATS duplicateWindowMs must be an integer of at least 1000 ms, got ${duplicateWindowMs}`,
    );
  }
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new ConfigurationError(`NATS replicas must be an integer from 1 to 5, got ${replicas}`);
  }
  const maxAge = options.maxAgeMs ?? defaultMaxAgeMs;
  if (maxAge !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxAge) || maxAge < duplicateWindowMs)) {
    throw new ConfigurationError(
      `NATS maxAgeMs must be an integer of at least duplicateWindowMs (${duplicateWindowMs} ms), or Infinity, got ${maxAge}`,
    );
  }
  const stalled = options.stalledPartitionMs;
  if (stalled !== undefined && !(stalled > 0)) {
    throw new ConfigurationError(
      `NATS stalledPartitionMs must be a positive number of milliseconds, or Infinity, got ${stalled}`,
    );
  }
  // JetStream's max_age 0 means no limit.
  const maxAgeMs = maxAge === Number.POSITIVE_INFINITY ? 0 : maxAge;
  return { partitions, duplicateWindowMs, replicas, maxAgeMs };
}

async function openConnection(
  options: NatsTransportOptions,
  replicas: number,
  warn: (message: string) => void,
): Promise<Connected> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers.split(',').map((server) => server.trim()),
      name: 'causeway',
      // Never give up: a broker restart must not end publishing or consuming.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  } catch (error) {
    throw toTransportError(`connect to ${options.servers}`, error, { servers: options.servers });
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: requestTimeoutMs });
    void warnIfAcksNotDurable(nc, options.monitorUrl, replicas, warn);
    return { nc, js: jetstream(nc, { timeout: requestTimeoutMs }), jsm };
  } catch (error) {
    await nc.close();
    throw toTransportError(`use JetStream at ${options.servers}`, error, { servers: options.servers });
  }
}

async function warnIfAcksNotDurable(
  nc: NatsConnection,
  monitorUrl: string | undefined,
  replicas: number,
  warn: (message: string) => void,
) {
  const varz = monitorUrl === undefined ? undefined : await fetchVarz(monitorUrl);
  const warning = describeAckDurability({ serverVersion: nc.info?.version, replicas, varz });
  if (warning) warn(warning);
  else if (monitorUrl !== undefined && varz === undefined && replicas < 3) {
    warn(
      `could not read ${monitorUrl}/varz to check that the NATS server fsyncs before acking (sync_interval: always)`,
    );
  }
}
