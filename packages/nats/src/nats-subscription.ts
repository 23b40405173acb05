import {
  type Delivery,
  InvalidArgumentError,
  type SubscribeOptions,
  type Subscription,
} from '@causeway/core';
import {
  type ConsumerMessages,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { createNatsDelivery } from './nats-delivery.ts';
import { decodeMessage } from './nats-message-codec.ts';
import type { NatsNames } from './nats-names.ts';
import type { NatsProvisioner } from './nats-streams.ts';
import {
  type ConsumerState,
  createPartitionWatchdog,
  type PartitionWatch,
  type PartitionWatchdog,
  stalledPartitionThreshold,
} from './partition-watchdog.ts';
import { createPermits, type Permits } from './permits.ts';

export const defaultMaxInFlight = 32;
export const defaultAckTimeoutMs = 30_000;
const retryPullAfterMs = 1_000;
const consumerNotFound = 10014;
const streamNotFound = 10059;

export interface SubscriptionContext {
  js: JetStreamClient;
  names: NatsNames;
  provisioner: NatsProvisioner;
  partitions: number;
  warn: (message: string, error?: unknown) => void;
  /** Silence, with messages waiting, after which a partition's pull is restarted (see partition-watchdog.ts). */
  stalledPartitionMs?: number;
}

type Handler = (delivery: Delivery) => Promise<void>;

interface PartitionTarget {
  group: string;
  destination: string;
  partition: number;
  stream: string;
  consumer: string;
}

interface Running {
  closed: boolean;
  readonly permits: Permits;
  readonly ackTimeoutMs: number;
  readonly pulls: Set<ConsumerMessages>;
  readonly handler: Handler;
}

/** One partition's pull in this process. */
interface PartitionRun {
  readonly target: PartitionTarget;
  readonly watch: PartitionWatch;
  pull?: ConsumerMessages;
  /** Set when the watchdog closed the pull: it has said why, so the loop restarts without a second warning. */
  restarting: boolean;
}

/**
 * Pulls every partition of every destination through the group's durable consumers, at most
 * `maxInFlight` handlers at once. Each partition consumer has max_ack_pending 1, so a partition
 * (and so a key) has one unacked message at a time across every process of the group.
 */
export async function subscribeToPartitions(
  context: SubscriptionContext,
  options: SubscribeOptions,
  handler: Handler,
): Promise<Subscription> {
  const { maxInFlight, ackTimeoutMs } = checkOptions(options);
  const targets = await Promise.all(
    options.destinations.flatMap((destination) =>
      Array.from({ length: context.partitions }, async (_, partition): Promise<PartitionTarget> => {
        const consumer = await context.provisioner.ensureConsumer({
          destination,
          group: options.group,
          partition,
          ackTimeoutMs,
        });
        return {
          group: options.group,
          destination,
          partition,
          consumer,
          stream: context.names.streamName(destination),
        };
      }),
    ),
  );
  const running: Running = {
    closed: false,
    permits: createPermits(maxInFlight),
    ackTimeoutMs,
    pulls: new Set(),
    handler,
  };
  const watchdog = createPartitionWatchdog({
    silentMs: stalledPartitionThreshold(ackTimeoutMs, context.stalledPartitionMs),
    warn: context.warn,
  });
  const loops = targets.map((target) =>
    pullPartition(context, running, watchPartition(context, watchdog, target)),
  );
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        running.closed = true;
        watchdog.stop();
        await Promise.all([...running.pulls].map((pull) => pull.close()));
        // Waits for the handlers in flight: close() returning means no handler runs any more.
        await Promise.all(loops);
      })();
      return closing;
    },
  };
}

function checkOptions(options: SubscribeOptions): { maxInFlight: number; ackTimeoutMs: number } {
  const maxInFlight = options.maxInFlight ?? defaultMaxInFlight;
  const ackTimeoutMs = options.ackTimeoutMs ?? defaultAckTimeoutMs;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new InvalidArgumentError(
      'maxInFlight',
      `maxInFlight must be a positive integer, got ${maxInFlight}`,
    );
  }
  if (!Number.isFinite(ackTimeoutMs) || ackTimeoutMs < 1) {
    throw new InvalidArgumentError(
      'ackTimeoutMs',
      `ackTimeoutMs must be a positive number of milliseconds, got ${ackTimeoutMs}`,
    );
  }
  if (options.destinations.length === 0) {
    throw new InvalidArgumentError(
      'destinations',
      `Subscription of group ${options.group} lists no destination`,
    );
  }
  return { maxInFlight, ackTimeoutMs };
}

function watchPartition(
  context: SubscriptionContext,
  watchdog: PartitionWatchdog,
  target: PartitionTarget,
): PartitionRun {
  const run: PartitionRun = {
    target,
    restarting: false,
    watch: watchdog.watch({
      label: `consumer ${target.consumer} of stream ${target.stream}`,
      inspect: () => inspectConsumer(context, target),
      recreate: () => deleteConsumer(context, target),
      restartPull() {
        if (!run.pull) return; // between pulls: the loop is already starting a fresh one
        run.restarting = true;
        void run.pull.close();
      },
    }),
  };
  return run;
}

async function inspectConsumer(
  context: SubscriptionContext,
  target: PartitionTarget,
): Promise<ConsumerState | undefined> {
  try {
    // get() is the consumer-info request; info(true) reads what it fetched.
    return await (await context.js.consumers.get(target.stream, target.consumer)).info(true);
  } catch (error) {
    if (
      error instanceof JetStreamApiError &&
      (error.code === consumerNotFound || error.code === streamNotFound)
    ) {
      return undefined;
    }
    throw error;
  }
}

/** Deletes the partition's durable consumer; the pull loop's next round creates it afresh. */
async function deleteConsumer(context: SubscriptionContext, target: PartitionTarget): Promise<void> {
  try {
    await (await context.js.jetstreamManager()).consumers.delete(target.stream, target.consumer);
  } catch (error) {
    if (
      error instanceof JetStreamApiError &&
      (error.code === consumerNotFound || error.code === streamNotFound)
    ) {
      return; // another process of the group got there first
    }
    throw error;
  }
}

async function pullPartition(
  context: SubscriptionContext,
  running: Running,
  run: PartitionRun,
): Promise<void> {
  const { target } = run;
  while (!running.closed) {
    try {
      await pullUntilStopped(context, running, run);
      if (running.closed) return;
      if (!run.restarting) {
        context.warn(`pulling ${target.consumer} of stream ${target.stream} stopped; restarting`);
      }
    } catch (error) {
      if (running.closed) return;
      context.warn(`pulling ${target.consumer} of stream ${target.stream} failed; retrying`, error);
    }
    await new Promise((resolve) => setTimeout(resolve, retryPullAfterMs));
    if (running.closed) return;
    // The consumer or its stream may have been deleted: recreate them before pulling again.
    context.provisioner.forgetStream(target.destination);
    await context.provisioner
      .ensureConsumer({ ...target, ackTimeoutMs: running.ackTimeoutMs })
      .catch(() => {});
  }
}

/** Consumes one partition until the subscription closes, the client gives up or the watchdog restarts it. */
async function pullUntilStopped(
  context: SubscriptionContext,
  running: Running,
  run: PartitionRun,
): Promise<void> {
  const { target } = run;
  run.restarting = false;
  const consumer = await context.js.consumers.get(target.stream, target.consumer);
  run.watch.pulling((await consumer.info(true)).ack_floor.stream_seq);
  // One message per pull, although a pull for many would save a request per message (measured:
  // 2,765 against 1,261 messages/s through one partition): the server keeps a pull of a process
  // that was SIGKILLed until it expires, and a pull with budget left keeps taking the partition's
  // redeliveries into the dead inbox, stalling the partition (the NATS crash test caught it).
  const pull = await consumer.consume({ max_messages: 1 });
  running.pulls.add(pull);
  run.pull = pull;
  // Not awaited: close() resolves only once the loop below has drained the iterator.
  if (running.closed) void pull.close();
  try {
    for await (const msg of pull) await deliver(context, running, run.watch, msg);
  } finally {
    running.pulls.delete(pull);
    run.pull = undefined;
    run.watch.stopped();
  }
}

async function deliver(
  context: SubscriptionContext,
  running: Running,
  watch: PartitionWatch,
  msg: JsMsg,
): Promise<void> {
  watch.received(msg.seq);
  try {
    await handle(context, running, watch, msg);
  } finally {
    watch.settled();
  }
}

async function handle(
  context: SubscriptionContext,
  running: Running,
  watch: PartitionWatch,
  msg: JsMsg,
): Promise<void> {
  const release = await acquireKeepingAlive(running, msg);
  try {
    if (running.closed) {
      // Hand it back at once rather than after ack_wait: another consumer of the group takes it.
      msg.nak();
      return;
    }
    const message = decodeMessage(msg.data);
    if (message === undefined) {
      context.warn(
        `message ${msg.seq} on ${msg.subject} is not a Causeway message: terminated, never redelivered`,
      );
      msg.term();
      return;
    }
    const delivery = createNatsDelivery(msg, message);
    await running.handler({
      ...delivery,
      retry(delayMs) {
        watch.holding(delayMs);
        return delivery.retry(delayMs);
      },
    });
  } catch (error) {
    // Left unacked: the server redelivers it after ack_wait, as if this consumer had crashed.
    context.warn(
      `handler failed on message ${msg.seq} of ${msg.subject}; redelivery after ${running.ackTimeoutMs} ms`,
      error,
    );
  } finally {
    release();
  }
}

/**
 * A handler slot for the message. While it waits for one, the message tells the server it is
 * being worked on; otherwise the server would redeliver it (a needless duplicate) after ack_wait.
 */
async function acquireKeepingAlive(running: Running, msg: JsMsg): Promise<() => void> {
  const timer = setInterval(() => msg.working(), Math.max(50, running.ackTimeoutMs / 2));
  try {
    return await running.permits.acquire();
  } finally {
    clearInterval(timer);
  }
}
