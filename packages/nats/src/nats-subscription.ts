import {
  createSubscriptionRuntime,
  type Delivery,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionRuntime,
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

const defaultMaxInFlight = 32;
const defaultAckTimeoutMs = 30_000;
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
  readonly runtime: SubscriptionRuntime;
  readonly pulls: Set<ConsumerMessages>;
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
  const runtime = createSubscriptionRuntime(options, handler, {
    defaults: { maxInFlight: defaultMaxInFlight, ackTimeoutMs: defaultAckTimeoutMs },
    warn: context.warn,
  });
  const { group, destinations, ackTimeoutMs } = runtime.settings;
  const targets = await Promise.all(
    destinations.flatMap((destination) =>
      Array.from({ length: context.partitions }, async (_, partition): Promise<PartitionTarget> => {
        const consumer = await context.provisioner.ensureConsumer({
          destination,
          group,
          partition,
          ackTimeoutMs,
        });
        return {
          group,
          destination,
          partition,
          consumer,
          stream: context.names.streamName(destination),
        };
      }),
    ),
  );
  const running: Running = { runtime, pulls: new Set() };
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
        const drained = runtime.close();
        watchdog.stop();
        await Promise.all([...running.pulls].map((pull) => pull.close()));
        // Every handler returned: wait for the loops to finish with their iterators. Otherwise a
        // hung handler was given up on (its message comes back after ack_wait) and so is its loop.
        if (await drained) await Promise.all(loops);
      })();
      return closing;
    },
  };
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
  while (!running.runtime.closing.aborted) {
    try {
      await pullUntilStopped(context, running, run);
      if (running.runtime.closing.aborted) return;
      if (!run.restarting) {
        context.warn(`pulling ${target.consumer} of stream ${target.stream} stopped; restarting`);
      }
    } catch (error) {
      if (running.runtime.closing.aborted) return;
      context.warn(`pulling ${target.consumer} of stream ${target.stream} failed; retrying`, error);
    }
    await new Promise((resolve) => setTimeout(resolve, retryPullAfterMs));
    if (running.runtime.closing.aborted) return;
    // The consumer or its stream may have been deleted: recreate them before pulling again.
    context.provisioner.forgetStream(target.destination);
    await context.provisioner
      .ensureConsumer({ ...target, ackTimeoutMs: running.runtime.settings.ackTimeoutMs })
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
  if (running.runtime.closing.aborted) void pull.close();
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
  const release = await acquireKeepingAlive(running.runtime, msg);
  // Closing: hand it back at once rather than after ack_wait; another consumer of the group takes it.
  if (!release) return msg.nak();
  try {
    const message = decodeMessage(msg.data);
    if (message === undefined) {
      context.warn(
        `message ${msg.seq} on ${msg.subject} is not a Causeway message: terminated, never redelivered`,
      );
      msg.term();
      return;
    }
    const delivery = createNatsDelivery(msg, message);
    await running.runtime.invoke({
      ...delivery,
      retry(delayMs) {
        watch.holding(delayMs);
        return delivery.retry(delayMs);
      },
    });
  } finally {
    release();
  }
}

/**
 * A handler slot for the message. While it waits for one, the message tells the server it is
 * being worked on; otherwise the server would redeliver it (a needless duplicate) after ack_wait.
 */
async function acquireKeepingAlive(
  runtime: SubscriptionRuntime,
  msg: JsMsg,
): Promise<(() => void) | undefined> {
  const release = runtime.tryAcquireSlot();
  if (release) return release;
  const timer = setInterval(() => msg.working(), Math.max(50, runtime.settings.ackTimeoutMs / 2));
  try {
    return await runtime.acquireSlot();
  } finally {
    clearInterval(timer);
  }
}
