/**
 * The embedded transport: a durable message log in ONE SQLite file that the processes of one
 * machine share (each service is its own process; they all open the same file under DATA_DIR).
 *
 * Guarantees: publish resolves after the messages are committed with `synchronous = FULL` (an
 * acked publish survives power loss); a message id already in the log is dropped (dedupe);
 * at-least-once delivery; per ordering key, publish order within a group: keys are spread over
 * partitions with core's `partitionOf`, each (group, destination, partition) is leased by exactly
 * one subscriber at a time and consumed strictly one message after another. A group that
 * subscribes for the first time starts at the beginning of the log, so nothing published before it
 * listened is lost.
 *
 * Limits, honestly:
 * - One machine, one file. Processes must see the same file system (no network file systems:
 *   SQLite's locking is not reliable there).
 * - Throughput is bounded by SQLite's single writer: each publish batch and each ack is one
 *   fsync-ed transaction (claims of several partitions share one). Expect thousands of messages
 *   per second, not hundreds of thousands.
 * - Within a partition delivery is sequential, so a group's parallelism is at most `partitions`.
 * - Cross-process wake-ups poll `PRAGMA data_version` (20 ms while busy, 100 ms once idle), so
 *   another process sees a message within about one poll interval.
 * - No retention yet: the log grows until messages are deleted by hand (a message must not be
 *   deleted before every group acked it).
 * - Leases and not-before times use the wall clock (`Date.now()`), shared by the machine's
 *   processes; a large clock jump can expire leases early (a redelivery, never a loss).
 */
import {
  defaultPartitions,
  InvalidArgumentError,
  type Transport,
  type TransportMessage,
} from '@causeway/core';
import { openEmbeddedDatabase } from './embedded-database.ts';
import { toEmbeddedTransportError, transportClosedError } from './embedded-errors.ts';
import { createEmbeddedLeases } from './embedded-leases.ts';
import { createEmbeddedLog } from './embedded-log.ts';
import { EmbeddedSubscription } from './embedded-subscription.ts';
import { validateMessages, validateSubscribeOptions } from './embedded-validation.ts';
import { createEmbeddedWakeups } from './embedded-wakeups.ts';

export interface EmbeddedTransportOptions {
  /** The shared log, e.g. `join(DATA_DIR, 'transport.db')`; every process opens the same file. */
  filename: string;
  /** Partitions per destination (default core's `defaultPartitions`); fixed when the file is created. */
  partitions?: number;
  /** How often other processes' commits are looked for while the file is busy (default 20 ms). */
  pollIntervalMs?: number;
  /** Polling once nothing changed for a second (default 100 ms). */
  idlePollIntervalMs?: number;
  /** How long a write waits for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
}

const defaultMaxInFlight = 16;
const defaultAckTimeoutMs = 30_000;

/** Opens (or creates) the transport file. Several instances, in one or many processes, may share it. */
export function createEmbeddedTransport(options: EmbeddedTransportOptions): Transport {
  const partitions = options.partitions ?? defaultPartitions;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new InvalidArgumentError(
      'partitions',
      `partitions must be an integer from 1 to 4096, got ${partitions}`,
    );
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const db = openEmbeddedDatabase({ filename: options.filename, partitions, busyTimeoutMs });
  const log = createEmbeddedLog(db, partitions, busyTimeoutMs);
  const wakeups = createEmbeddedWakeups({
    filename: options.filename,
    db,
    pollIntervalMs: options.pollIntervalMs ?? 20,
    idlePollIntervalMs: options.idlePollIntervalMs ?? 100,
    idleAfterMs: 1_000,
  });
  const context = {
    log,
    leases: createEmbeddedLeases(db, partitions, busyTimeoutMs),
    wakeups,
    isOpen: () => db.open,
  };
  const subscriptions = new Set<EmbeddedSubscription>();
  let closing: Promise<void> | undefined;

  async function close(): Promise<void> {
    await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    wakeups.close();
    db.close();
  }

  return {
    name: 'embedded',
    async publish(messages: readonly TransportMessage[]) {
      if (closing !== undefined) throw transportClosedError();
      validateMessages(messages);
      if (messages.length === 0) return;
      try {
        log.append(messages, Date.now());
      } catch (error) {
        throw toEmbeddedTransportError(error, `cannot publish ${messages.length} messages`);
      }
      wakeups.notifyLocal();
    },
    async subscribe(subscribeOptions, handler) {
      if (closing !== undefined) throw transportClosedError();
      validateSubscribeOptions(subscribeOptions);
      const subscription = new EmbeddedSubscription(
        {
          group: subscribeOptions.group,
          destinations: [...new Set(subscribeOptions.destinations)],
          maxInFlight: subscribeOptions.maxInFlight ?? defaultMaxInFlight,
          ackTimeoutMs: subscribeOptions.ackTimeoutMs ?? defaultAckTimeoutMs,
        },
        context,
        handler,
      );
      try {
        subscription.start();
      } catch (error) {
        await subscription.close();
        throw toEmbeddedTransportError(error, `cannot subscribe group ${subscribeOptions.group}`);
      }
      subscriptions.add(subscription);
      return {
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
