/**
 * One pipeline run: service A (this process) appends events with 8 producers, each append and its
 * outbox row in one transaction; A's relay publishes them; service B (a child process) consumes
 * them with inbox dedupe and one row of effect per message. Measures the end-to-end rate and the
 * commit → handled latency at half that rate.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  createEventStore,
  createOutboxRelay,
  type EventStore,
  type Store,
  type Transport,
} from '@causeway/core';
import { createWalOutboxRelay } from '@causeway/postgres-cdc';
import type { BenchOptions } from '../support/bench-options.ts';
import { pause, percentile } from '../support/measure.ts';
import { startProgress } from '../support/progress.ts';
import type { ConsumerCommand, ConsumerReport } from './consumer-process.ts';
import { pipelineRegistry, transferNote, transferSent } from './pipeline-events.ts';
import { openStore, openTransport, type PipelineSpec, removeBrokerState } from './setup.ts';

export const producers = 8;
/** Streams per producer: no two producers append to one stream, so appends never conflict. */
const streamsPerProducer = 8;
const drainTimeoutMs = 180_000;

export interface PipelineFigures {
  /** Messages per second from the first commit to the last handled. */
  throughput: number;
  /** The rate the latency was measured at (half the throughput). */
  latencyRate: number;
  p50: number;
  p99: number;
  p999: number;
  samples: number;
}

const wallClock = () => performance.timeOrigin + performance.now();

const consumerScript = fileURLToPath(new URL('./consumer-process.ts', import.meta.url));

/** Service B in its own process; resolves once its consumer is subscribed. */
function startConsumerProcess(spec: PipelineSpec, onHandled: (seqs: number[], at: number[]) => void) {
  const child: ChildProcess = fork(consumerScript, [JSON.stringify(spec)], {
    execArgv: ['--import', 'tsx', '--conditions=@causeway/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the consumer process exited (code ${code}) before it was ready`)),
    );
    child.on('message', (report: ConsumerReport) => {
      if (report.kind === 'ready') resolve();
      else onHandled(report.seqs, report.handledAt);
    });
  });
  return {
    ready,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'stop' } satisfies ConsumerCommand);
      await Promise.race([exited, pause(15_000)]);
      child.kill('SIGKILL');
    },
  };
}

class HandledLog {
  readonly #handledAt = new Map<number, number>();
  #waiters: Array<() => void> = [];

  record(seqs: readonly number[], at: readonly number[]) {
    seqs.forEach((seq, index) => {
      // A redelivery after a crash would report a message twice; the first report counts.
      if (!this.#handledAt.has(seq)) this.#handledAt.set(seq, at[index]!);
    });
    for (const wake of this.#waiters.splice(0)) wake();
  }

  handledAt(seq: number): number | undefined {
    return this.#handledAt.get(seq);
  }

  /** Waits until every seq in [from, to) was handled; shows progress; fails after the timeout. */
  async waitForRange(from: number, to: number, label: string): Promise<void> {
    const progress = startProgress(label, to - from);
    const deadline = Date.now() + drainTimeoutMs;
    let next = from;
    try {
      while (true) {
        while (next < to && this.#handledAt.has(next)) next++;
        if (next === to) return;
        progress.update(next - from);
        if (Date.now() > deadline) {
          throw new Error(
            `${label}: message ${next} of [${from}, ${to}) was not handled within ${drainTimeoutMs / 1000} s; is the broker up?`,
          );
        }
        await new Promise<void>((resolve) => {
          this.#waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    } finally {
      progress.stop();
    }
  }
}

/** Each producer cycles through its own streams (seqs are shared, so they cannot pick the stream). */
const appendsByProducer = new Array<number>(producers).fill(0);

function appendOne(eventStore: EventStore, spec: PipelineSpec, producer: number, seq: number) {
  const turn = appendsByProducer[producer]!++;
  return eventStore.appendToStream(
    `transfer-${producer}-${turn % streamsPerProducer}`,
    [{ type: transferSent.type, data: { seq, note: transferNote } }],
    { publishTo: spec.destination },
  );
}

/** 8 producers append as fast as they can for `durationMs`; returns the seqs [from, to) committed. */
async function produceFlatOut(eventStore: EventStore, spec: PipelineSpec, first: number, durationMs: number) {
  let next = first;
  const until = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: producers }, async (_, producer) => {
      while (performance.now() < until) await appendOne(eventStore, spec, producer, next++);
    }),
  );
  return next;
}

/** Appends at `rate` per second for `durationMs` (each producer takes the next due seq); commit times by seq. */
async function producePaced(
  eventStore: EventStore,
  spec: PipelineSpec,
  first: number,
  options: { rate: number; durationMs: number },
) {
  const total = Math.max(1, Math.floor((options.rate * options.durationMs) / 1000));
  const committedAt = new Map<number, number>();
  const start = performance.now();
  let issued = 0;
  await Promise.all(
    Array.from({ length: producers }, async (_, producer) => {
      while (issued < total) {
        const index = issued++;
        const wait = start + (index * 1000) / options.rate - performance.now();
        if (wait > 1) await pause(wait);
        await appendOne(eventStore, spec, producer, first + index);
        committedAt.set(first + index, wallClock());
      }
    }),
  );
  return { end: first + total, committedAt };
}

/** How service A's outbox reaches the broker: the polling relay, or the WAL-fed one (PostgreSQL). */
export type RelayKind = 'polling' | 'wal';

function openRelay(kind: RelayKind, spec: PipelineSpec, store: Store, transport: Transport) {
  const onError = (error: unknown) => process.stderr.write(`[relay] ${String(error)}\n`);
  if (kind === 'polling') {
    const relay = createOutboxRelay({ store, transport, onError });
    return { start: async () => relay.start(), stop: () => relay.stop() };
  }
  if (spec.producer.kind !== 'postgres') throw new Error('The WAL relay needs a PostgreSQL store');
  const relay = createWalOutboxRelay({
    connectionString: spec.producer.url,
    schema: spec.producer.schema,
    transport,
    slot: `${spec.prefix}_outbox`.toLowerCase(),
    onError,
  });
  // The slot belongs to the server: a finished run removes it.
  return { start: () => relay.start(), stop: () => relay.drop() };
}

export async function runPipeline(
  spec: PipelineSpec,
  options: BenchOptions,
  label: string,
  relayKind: RelayKind = 'polling',
) {
  const handled = new HandledLog();
  const consumer = startConsumerProcess(spec, (seqs, at) => handled.record(seqs, at));
  const store = await openStore(spec.producer, producers + 4);
  const eventStore = createEventStore({ store, registry: pipelineRegistry });
  const transport = openTransport(spec);
  const relay = openRelay(relayKind, spec, store, transport);
  try {
    await consumer.ready;
    await relay.start();
    // Warm-up: streams, queues, prepared statements and the JIT, then an empty pipeline.
    let seq = 0;
    const warmedUp = await produceFlatOut(eventStore, spec, seq, options.warmupMs);
    await handled.waitForRange(seq, warmedUp, `${label} warm-up drain`);
    seq = warmedUp;

    const started = wallClock();
    const produced = await produceFlatOut(eventStore, spec, seq, options.durationMs);
    await handled.waitForRange(seq, produced, `${label} max rate (drain)`);
    let lastHandled = 0;
    for (let index = seq; index < produced; index++)
      lastHandled = Math.max(lastHandled, handled.handledAt(index)!);
    const throughput = (produced - seq) / ((lastHandled - started) / 1000);
    seq = produced;

    const latencyRate = throughput / 2;
    const paced = await producePaced(eventStore, spec, seq, {
      rate: latencyRate,
      durationMs: Math.max(options.durationMs, 2000),
    });
    await handled.waitForRange(seq, paced.end, `${label} latency at ${Math.round(latencyRate)}/s`);
    const latencies = [...paced.committedAt]
      .map(([index, at]) => handled.handledAt(index)! - at)
      .sort((a, b) => a - b);
    return {
      throughput,
      latencyRate,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      p999: percentile(latencies, 0.999),
      samples: latencies.length,
    } satisfies PipelineFigures;
  } finally {
    await relay.stop();
    await consumer.stop();
    await transport.close();
    await store.close();
    await removeBrokerState(spec).catch((error) => process.stderr.write(`cleanup: ${String(error)}\n`));
  }
}
