import type { ConsumerInfo, SequenceInfo } from '@nats-io/jetstream';

type Sequences = Pick<SequenceInfo, 'consumer_seq' | 'stream_seq'>;

/** The part of a durable consumer's info the watchdog judges and reports. */
export type ConsumerState = Pick<
  ConsumerInfo,
  'num_ack_pending' | 'num_pending' | 'num_waiting' | 'num_redelivered'
> & { delivered: Sequences; ack_floor: Sequences };

/** One partition's pull, as the subscription lets the watchdog see and act on it. */
export interface WatchedPartition {
  /** Names the partition in warnings, e.g. `consumer billing_p3 of stream CW_orders_events`. */
  readonly label: string;
  /** Reads the durable consumer's state (one request); undefined when the consumer or its stream is gone. */
  inspect(): Promise<ConsumerState | undefined>;
  /** Deletes the durable consumer (its state is beyond repair); `restartPull` then creates it anew. */
  recreate(): Promise<void>;
  /** Closes the partition's pull; the subscription re-ensures the consumer and pulls afresh. */
  restartPull(): void;
}

/** What the subscription reports of one partition's traffic in this process: cheap, no request. */
export interface PartitionWatch {
  /** A fresh pull started; `ackFloor` is the consumer's ack floor (stream sequence) it saw. */
  pulling(ackFloor: number): void;
  /** The pull ended: until the next `pulling`, the subscription's own retry loop has the partition. */
  stopped(): void;
  /** A message of the partition reached this process; it counts as handled until `settled`. */
  received(streamSequence: number): void;
  settled(): void;
  /** A retry of this process holds the partition on purpose for `delayMs`: not a stall. */
  holding(delayMs: number): void;
}

export interface PartitionWatchdog {
  watch(partition: WatchedPartition): PartitionWatch;
  stop(): void;
}

/** The floor of the default threshold: a tiny ack wait must not turn idle partitions into a request storm. */
export const minimumStalledPartitionMs = 10_000;

/**
 * How long a partition may be silent, with messages waiting, before it counts as stalled: three
 * ack waits by default, so a message held by a crashed process (redelivered after one ack wait)
 * is not mistaken for a stall; `configured` overrides it.
 */
export function stalledPartitionThreshold(ackTimeoutMs: number, configured?: number): number {
  return configured ?? Math.max(3 * ackTimeoutMs, minimumStalledPartitionMs);
}

/** Checks run at least this often, so a long threshold is overshot by at most this much. */
const maximumTickMs = 60_000;

interface Watched {
  readonly partition: WatchedPartition;
  /** Silence counts from here: the last message, settlement, pull start or check (or a retry's end). */
  quietSince: number;
  /** Messages of the partition this process holds: waiting for a handler slot, or in the handler. */
  handling: number;
  /** The highest ack floor (stream sequence) this process has seen or caused. */
  ackFloor: number;
  /** Only a running pull can go silent; a restarting one is the retry loop's to report. */
  isPulling: boolean;
  isInspecting: boolean;
}

/**
 * Finds partitions whose pull went silent while their durable consumer has messages waiting (a
 * pull the client still thinks alive, a consumer deleted under it) and restarts their pulls. Only
 * a partition silent for `silentMs`, with nothing in its handler here, costs a consumer-info
 * request, at most one per `silentMs`; `Infinity` turns the watchdog off.
 */
export function createPartitionWatchdog(options: {
  silentMs: number;
  warn: (message: string, error?: unknown) => void;
}): PartitionWatchdog {
  const { silentMs, warn } = options;
  const watched: Watched[] = [];
  let stopped = false;

  const inspect = async (entry: Watched): Promise<void> => {
    entry.isInspecting = true;
    const silence = Date.now() - entry.quietSince;
    try {
      const state = await entry.partition.inspect();
      if (!stopped && state && hasImpossibleSequence(state)) {
        warn(
          `${entry.partition.label} reports a sequence past any a stream can hold (${describeConsumerState(state)}): nats-server before 2.11 counts back on each redelivery that finds only pulls of dead clients, below 1 when the partition's first messages are involved, and then delivers nothing more. Recreating the consumer: it delivers the partition again from its first retained message, and the group's inbox drops the ones it handled`,
        );
        entry.isPulling = false;
        entry.ackFloor = 0;
        await entry.partition.recreate();
        entry.partition.restartPull();
        return;
      }
      const warning = stopped ? undefined : stallWarning(entry, state, silence);
      if (state) entry.ackFloor = Math.max(entry.ackFloor, state.ack_floor.stream_seq);
      if (warning !== undefined) {
        warn(warning);
        entry.isPulling = false;
        entry.partition.restartPull();
      }
    } catch (error) {
      if (!stopped) warn(`could not read the state of ${entry.partition.label}; checking again later`, error);
    } finally {
      entry.isInspecting = false;
      entry.quietSince = Math.max(entry.quietSince, Date.now());
    }
  };

  // One timer per subscription, and a tick is a scan of a few numbers: a partition's traffic only
  // writes timestamps, and a request is made only for a partition found silent.
  const timer = Number.isFinite(silentMs)
    ? setInterval(
        () => {
          const now = Date.now();
          for (const entry of watched) if (isDue(entry, now, silentMs)) void inspect(entry);
        },
        Math.min(silentMs / 4, maximumTickMs),
      )
    : undefined;
  timer?.unref();

  return {
    watch(partition) {
      const entry: Watched = {
        partition,
        quietSince: Date.now(),
        handling: 0,
        ackFloor: 0,
        isPulling: false,
        isInspecting: false,
      };
      watched.push(entry);
      return watchEntry(entry);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function watchEntry(entry: Watched): PartitionWatch {
  const quietFrom = (time: number) => {
    entry.quietSince = Math.max(entry.quietSince, time);
  };
  return {
    pulling(ackFloor) {
      entry.isPulling = true;
      entry.ackFloor = ackFloor;
      quietFrom(Date.now());
    },
    stopped() {
      entry.isPulling = false;
    },
    received(streamSequence) {
      entry.handling += 1;
      entry.ackFloor = Math.max(entry.ackFloor, streamSequence);
      quietFrom(Date.now());
    },
    settled() {
      entry.handling -= 1;
      quietFrom(Date.now());
    },
    holding(delayMs) {
      quietFrom(Date.now() + delayMs);
    },
  };
}

function isDue(entry: Watched, now: number, silentMs: number): boolean {
  return entry.isPulling && entry.handling === 0 && !entry.isInspecting && now - entry.quietSince >= silentMs;
}

/**
 * A sequence no stream reaches: an unsigned counter that went below zero (nats-server issue 4677,
 * fixed in 2.11 by not counting back on a redelivery that found no live pull).
 */
function hasImpossibleSequence(state: ConsumerState): boolean {
  return (
    state.delivered.stream_seq > Number.MAX_SAFE_INTEGER ||
    state.ack_floor.stream_seq > Number.MAX_SAFE_INTEGER
  );
}

/** Why the partition counts as stalled, or undefined when it is healthy. */
function stallWarning(entry: Watched, state: ConsumerState | undefined, silence: number): string | undefined {
  const { label } = entry.partition;
  // A message reached this process while the request ran, or its pull already stopped.
  if (entry.handling > 0 || !entry.isPulling) return undefined;
  if (state === undefined) {
    return `${label} is gone (deleted under its pull, which went silent); recreating it and pulling again`;
  }
  // An ack floor past what this process saw: another process of the group is moving the partition.
  const progressed = state.ack_floor.stream_seq > entry.ackFloor;
  const waiting = state.num_pending > 0 || state.num_ack_pending > 0;
  // An idle partition (nothing pending) is healthy. Consumer info cannot tell a message that
  // another process retries with a delay longer than the threshold from a held one: that case
  // costs a needless, harmless restart.
  if (!waiting || progressed) return undefined;
  return `${label} delivered nothing to this process for ${Math.round(silence)} ms while messages wait (${describeConsumerState(state)}); restarting its pull`;
}

/** The consumer's state in one line, with JetStream's own field names so it greps like `nats consumer info`. */
export function describeConsumerState(state: ConsumerState): string {
  return [
    `num_pending=${state.num_pending}`,
    `num_ack_pending=${state.num_ack_pending}`,
    `num_waiting=${state.num_waiting}`,
    `num_redelivered=${state.num_redelivered}`,
    `delivered.stream_seq=${state.delivered.stream_seq}`,
    `delivered.consumer_seq=${state.delivered.consumer_seq}`,
    `ack_floor.stream_seq=${state.ack_floor.stream_seq}`,
    `ack_floor.consumer_seq=${state.ack_floor.consumer_seq}`,
  ].join(' ');
}
