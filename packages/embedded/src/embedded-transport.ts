/**
 * The embedded transport: a durable message log in ONE SQLite file that the processes of one
 * machine share (each service is its own process; they all open the same file under DATA_DIR).
 *
 * Guarantees: publish resolves after the messages are committed with `synchronous = FULL` (an
 * acked publish survives power loss); acks, claims and leases commit with `synchronous = NORMAL`
 * (they survive any process crash; a power loss may forget the last of them, which redelivers
 * messages consumers already handled: their inboxes drop them); a message id already in the log is dropped (dedupe);
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
 * - Cross-process wake-ups: each publish, after its commit, rewrites one byte of a wake file
 *   beside the log (`<file>-wake`), which other processes watch (inotify). Where the file system
 *   reports no such writes, they poll `PRAGMA data_version` (20 ms while busy, 100 ms once idle)
 *   and see a message within about one poll interval.
 * - Retention is by time (embedded-retention.ts): an entry every known group has acked is deleted
 *   after `retentionMs` (7 days); an entry a known group has not acked is kept up to `maxAgeMs`
 *   (30 days) and then deleted anyway, with a warning. A group is known once it subscribed, and
 *   stays known: a group that is gone for good holds entries back until `maxAgeMs`, unless its rows
 *   are deleted from `transport_cursors`. A group that subscribes for the first time starts at the
 *   oldest entry retention kept.
 * - Leases and not-before times use the wall clock (`Date.now()`), shared by the machine's
 *   processes; a large clock jump can expire leases early (a redelivery, never a loss).
 */
import {
  type ConsumerLag,
  createSubscriptionRuntime,
  defaultPartitions,
  InvalidArgumentError,
  type Transport,
  type TransportMessage,
} from '@causeway/core';
import { openEmbeddedDatabase } from './embedded-database.ts';
import { toEmbeddedTransportError, transportClosedError } from './embedded-errors.ts';
import { createEmbeddedLeases } from './embedded-leases.ts';
import { createEmbeddedLog } from './embedded-log.ts';
import { createEmbeddedRetention } from './embedded-retention.ts';
import { EmbeddedSubscription } from './embedded-subscription.ts';
import { validateMessages } from './embedded-validation.ts';
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
  /** An entry every known consumer group has acked is deleted once older than this (default 7 days). */
  retentionMs?: number;
  /**
   * An entry older than this is deleted even if a known group has not acked it yet (default 30
   * days; `Infinity`: never). At least `retentionMs`.
   */
  maxAgeMs?: number;
  /** How often this process prunes the log (default 5 minutes; 0: only when `prune()` is called). */
  pruneIntervalMs?: number;
}

/** The Transport, plus retention on demand (tests, operations). */
export interface EmbeddedTransport extends Transport {
  /**
   * Per (group, destination) this instance subscribed to: the entries of the log past the group's
   * cursors, i.e. not acked by the group yet (the one in flight in each partition included), read
   * from the shared file, whichever process consumes them. Entries retention deleted unread no
   * longer count.
   */
  consumerLag(): Promise<ConsumerLag[]>;
  /** Deletes the entries retention allows now (see `retentionMs`, `maxAgeMs`); resolves to their count. */
  prune(): Promise<number>;
}

const defaultMaxInFlight = 16;
const defaultAckTimeoutMs = 30_000;
const day = 24 * 60 * 60 * 1000;
export const defaultRetentionMs = 7 * day;
export const defaultMaxAgeMs = 30 * day;
export const defaultPruneIntervalMs = 5 * 60 * 1000;
const pruneBatchSize = 1_000;

/** Opens (or creates) the transport file. Several instances, in one or many processes, may share it. */
export function createEmbeddedTransport(options: EmbeddedTransportOptions): EmbeddedTransport {
  const partitions = options.partitions ?? defaultPartitions;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new InvalidArgumentError(
      'partitions',
      `partitions must be an integer from 1 to 4096, got ${partitions}`,
    );
  }
  const { retentionMs, maxAgeMs, pruneIntervalMs } = checkRetentionOptions(options);
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
  /** Group → destinations this instance subscribed to, for `consumerLag`; never forgotten. */
  const subscribed = new Map<string, Set<string>>();
  let closing: Promise<void> | undefined;
  const retention = createEmbeddedRetention(db, {
    partitions,
    busyTimeoutMs,
    retentionMs,
    maxAgeMs,
    batchSize: pruneBatchSize,
    isOpen: () => db.open && closing === undefined,
  });
  /** The prune running or queued: prunes of one transport run one after another. */
  let pruning: Promise<number> = Promise.resolve(0);

  async function pruneNow(): Promise<number> {
    if (closing !== undefined) return 0;
    const { deleted, unread } = await retention.prune(Date.now());
    if (unread > 0) {
      process.emitWarning(
        `embedded transport deleted ${unread} messages older than maxAgeMs (${maxAgeMs} ms) that a consumer group had not acked yet`,
      );
      // Their cursors moved on: subscribers that waited for them deliver the next messages.
      wakeups.announce();
    }
    return deleted;
  }

  function prune(): Promise<number> {
    const run = pruning.catch(() => 0).then(pruneNow);
    pruning = run;
    return run;
  }

  const pruneTimer =
    pruneIntervalMs > 0
      ? setInterval(() => {
          prune().catch((error) => {
            if (closing !== undefined) return;
            const mapped = toEmbeddedTransportError(error, 'embedded transport could not prune the log');
            process.emitWarning(`${mapped.message} (retrying in ${pruneIntervalMs} ms)`);
          });
        }, pruneIntervalMs)
      : undefined;
  // Pruning alone never keeps a process alive.
  pruneTimer?.unref();

  async function close(): Promise<void> {
    clearInterval(pruneTimer);
    await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    // A running prune stops after its current batch.
    await pruning.catch(() => {});
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
      wakeups.announce();
    },
    async subscribe(subscribeOptions, handler) {
      if (closing !== undefined) throw transportClosedError();
      const runtime = createSubscriptionRuntime(subscribeOptions, handler, {
        defaults: { maxInFlight: defaultMaxInFlight, ackTimeoutMs: defaultAckTimeoutMs },
      });
      const subscription = new EmbeddedSubscription(runtime, context);
      try {
        subscription.start();
      } catch (error) {
        await subscription.close();
        throw toEmbeddedTransportError(error, `cannot subscribe group ${subscribeOptions.group}`);
      }
      subscriptions.add(subscription);
      const destinations = subscribed.get(subscribeOptions.group) ?? new Set<string>();
      for (const destination of subscribeOptions.destinations) destinations.add(destination);
      subscribed.set(subscribeOptions.group, destinations);
      return {
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async consumerLag() {
      if (closing !== undefined) throw transportClosedError();
      try {
        return [...subscribed].flatMap(([group, destinations]) =>
          [...destinations].map((destination) => ({
            group,
            destination,
            pending: log.pending(group, destination),
          })),
        );
      } catch (error) {
        throw toEmbeddedTransportError(error, 'cannot read consumer lag');
      }
    },
    async prune() {
      if (closing !== undefined) throw transportClosedError();
      try {
        return await prune();
      } catch (error) {
        throw toEmbeddedTransportError(error, 'cannot prune the log');
      }
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}

function checkRetentionOptions(options: EmbeddedTransportOptions) {
  const retentionMs = options.retentionMs ?? defaultRetentionMs;
  const maxAgeMs = options.maxAgeMs ?? Math.max(defaultMaxAgeMs, retentionMs);
  const pruneIntervalMs = options.pruneIntervalMs ?? defaultPruneIntervalMs;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) {
    throw new InvalidArgumentError(
      'retentionMs',
      `retentionMs must be a finite number of milliseconds >= 0, got ${retentionMs}`,
    );
  }
  if (Number.isNaN(maxAgeMs) || maxAgeMs < retentionMs) {
    throw new InvalidArgumentError(
      'maxAgeMs',
      `maxAgeMs must be at least retentionMs (${retentionMs} ms), or Infinity, got ${maxAgeMs}`,
    );
  }
  if (!Number.isFinite(pruneIntervalMs) || pruneIntervalMs < 0 || pruneIntervalMs > 2 ** 31 - 1) {
    throw new InvalidArgumentError(
      'pruneIntervalMs',
      `pruneIntervalMs must be from 0 (no timer) to ${2 ** 31 - 1} ms, got ${pruneIntervalMs}`,
    );
  }
  return { retentionMs, maxAgeMs, pruneIntervalMs };
}
