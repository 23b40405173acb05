/**
 * One saga bench run on one backend: the orchestrating service (this process: saga orchestrator
 * with its reply consumer and timers, and its outbox relay) and the two participants (one child
 * process each). Measures sagas completed per second at concurrency 1 and 8 (each loop starts a
 * saga and waits until it is completed), then start → completed latency at half the c=8 rate.
 *
 * "Completed" is observed honestly: the orchestrator's reply consumer acks a delivery only after
 * the transaction that handled it committed, so the ack of the last step's successful reply is
 * the moment the instance's `completed` status is durable. Every phase ends by checking in the
 * store that every saga started so far is `completed`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createOutboxRelay, createSagaOrchestrator, type SagaReply, type Transport } from '@causeway/core';
import type { BenchOptions } from '../support/bench-options.ts';
import { measureThroughput, pause, percentile } from '../support/measure.ts';
import { startProgress } from '../support/progress.ts';
import { openStore, removeBrokerState } from '../transport/setup.ts';
import type { ParticipantCommand, ParticipantReport } from './participant-process.ts';
import {
  benchOrder,
  destinations,
  lastStep,
  openSagaTransport,
  type ParticipantRole,
  pipelineSpecOf,
  type SagaBenchSpec,
} from './saga-spec.ts';

export const concurrencies = [1, 8] as const;
const completionTimeoutMs = 60_000;
const participantScript = fileURLToPath(new URL('./participant-process.ts', import.meta.url));

/**
 * The measured window and warm-up of each rate point, and the length of the paced latency run.
 * A saga takes tens of milliseconds, so the quick (CI) windows are longer than the default 500 ms:
 * at c=8 a 500 ms window holds too few completions to mean anything.
 */
export function sagaWindows(options: BenchOptions) {
  return options.quick
    ? { durationMs: 1_500, warmupMs: 500, latencyMs: 1_500 }
    : { durationMs: Math.max(options.durationMs, 5_000), warmupMs: options.warmupMs, latencyMs: 5_000 };
}

export interface SagaRunFigures {
  /** Sagas completed per second, by concurrency. */
  rates: Record<number, number>;
  /** The rate the latency was measured at (half the c=8 rate). */
  latencyRate: number;
  p50: number;
  p99: number;
  samples: number;
}

/** When each saga was completed (the ack of its last reply), and who is waiting for which. */
class Completions {
  readonly #completedAt = new Map<string, number>();
  readonly #waiters = new Map<string, { resolve: (at: number) => void; reject: (error: Error) => void }>();
  #failure: Error | null = null;

  record(sagaId: string, at: number) {
    if (this.#completedAt.has(sagaId)) return;
    this.#completedAt.set(sagaId, at);
    this.#waiters.get(sagaId)?.resolve(at);
    this.#waiters.delete(sagaId);
  }

  /** Fails every waiter now and later (a participant died). */
  fail(error: Error) {
    this.#failure = error;
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }

  wait(sagaId: string): Promise<number> {
    const at = this.#completedAt.get(sagaId);
    if (at !== undefined) return Promise.resolve(at);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(sagaId);
        reject(new Error(`saga ${sagaId} was not completed within ${completionTimeoutMs / 1000} s`));
      }, completionTimeoutMs);
      this.#waiters.set(sagaId, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }
}

/** The orchestrator's transport, except that each ack of the last step's success notes the saga completed. */
function recordingCompletions(transport: Transport, completions: Completions): Transport {
  return {
    ...transport,
    name: transport.name,
    publish: (messages) => transport.publish(messages),
    close: () => transport.close(),
    subscribe: (options, handler) =>
      transport.subscribe(options, (delivery) =>
        handler({
          message: delivery.message,
          attempt: delivery.attempt,
          retry: (delayMs) => delivery.retry(delayMs),
          ack: () => {
            const { data } = delivery.message.payload as { data: SagaReply };
            if (data.step === lastStep && data.action === 'invoke' && data.outcome === 'succeeded')
              completions.record(data.sagaId, performance.now());
            return delivery.ack();
          },
        }),
      ),
  };
}

/** A participant in its own process; resolves `ready` once its consumer is subscribed. */
function startParticipant(spec: SagaBenchSpec, role: ParticipantRole, onDeath: (error: Error) => void) {
  const child: ChildProcess = fork(participantScript, [JSON.stringify(spec), role], {
    execArgv: [
      '--import',
      'tsx',
      '--conditions=@causeway/source',
      // BENCH_CHILD_PROF=<dir>: each participant writes a CPU profile there (node --cpu-prof).
      ...(process.env.BENCH_CHILD_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  void exited.then((code) => {
    if (!stopping) onDeath(new Error(`the ${role} participant process exited (code ${code})`));
  });
  const ready = new Promise<void>((resolve, reject) => {
    void exited.then((code) =>
      reject(new Error(`the ${role} participant process exited (code ${code}) before it was ready`)),
    );
    child.on('message', (report: ParticipantReport) => {
      if (report.kind === 'ready') resolve();
    });
  });
  return {
    ready,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ kind: 'stop' } satisfies ParticipantCommand);
      await Promise.race([exited, pause(15_000)]);
      child.kill('SIGKILL');
    },
  };
}

export async function runSagaBench(
  spec: SagaBenchSpec,
  options: BenchOptions,
  label: string,
): Promise<SagaRunFigures> {
  const windows = sagaWindows(options);
  const completions = new Completions();
  const participants = (['inventory', 'payments'] as const).map((role) =>
    startParticipant(spec, role, (error) => completions.fail(error)),
  );
  const store = await openStore(spec.orders, 12);
  const transport = recordingCompletions(openSagaTransport(spec), completions);
  const onError = (error: unknown) => process.stderr.write(`[orchestrator] ${String(error)}\n`);
  const orchestrator = createSagaOrchestrator({
    store,
    transport,
    sagas: [benchOrder],
    replyTo: destinations.replies,
    timerPollMs: 100,
    onError,
  });
  const relay = createOutboxRelay({ store, transport, onError });
  let started = 0;

  /** Starts one saga and resolves with its start → completed milliseconds. */
  async function runOne(): Promise<number> {
    const sagaId = `${spec.prefix}-${++started}`;
    const completed = completions.wait(sagaId);
    const begun = performance.now();
    await orchestrator.startSaga(benchOrder, { orderId: sagaId, amountCents: 1299 }, { sagaId });
    return (await completed) - begun;
  }

  /** Every saga started so far is completed in the orchestrator's store (nothing else). */
  async function checkAllCompleted(phase: string) {
    const counts = await orchestrator.counts(benchOrder.name);
    const others = Object.entries(counts).filter(([status, count]) => status !== 'completed' && count > 0);
    if (counts.completed !== started || others.length > 0) {
      throw new Error(
        `${label} ${phase}: ${started} sagas started but the store counts ${JSON.stringify(counts)}`,
      );
    }
  }

  try {
    await Promise.all(participants.map((participant) => participant.ready));
    await orchestrator.start();
    relay.start();
    // First sagas alone: broker streams, consumers' first fetches, prepared statements.
    for (let index = 0; index < 5; index++) await runOne();

    const rates: Record<number, number> = {};
    for (const concurrency of concurrencies) {
      rates[concurrency] = await measureThroughput(
        async () => {
          await runOne();
          return 1;
        },
        {
          label: `${label} sagas at c=${concurrency}`,
          concurrency,
          durationMs: windows.durationMs,
          warmupMs: windows.warmupMs,
        },
      );
      await checkAllCompleted(`c=${concurrency}`);
    }

    const latencyRate = rates[8]! / 2;
    const latencies = await paced(runOne, {
      rate: latencyRate,
      durationMs: windows.latencyMs,
      label: `${label} latency at ${Math.round(latencyRate)}/s`,
    });
    await checkAllCompleted('latency');
    return {
      rates,
      latencyRate,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      samples: latencies.length,
    };
  } finally {
    await relay.stop();
    await orchestrator.stop();
    for (const participant of participants) await participant.stop();
    await transport.close();
    await store.close();
    await removeBrokerState(pipelineSpecOf(spec)).catch((error) =>
      process.stderr.write(`cleanup: ${String(error)}\n`),
    );
  }
}

/**
 * Starts `operation` at `rate` per second for `durationMs` (each at its due time, whatever is
 * still running) and returns the milliseconds each took, sorted.
 */
export async function paced(
  operation: () => Promise<number>,
  options: { rate: number; durationMs: number; label: string },
): Promise<number[]> {
  const total = Math.max(20, Math.floor((options.rate * options.durationMs) / 1000));
  const progress = startProgress(options.label, total);
  const runs: Array<Promise<number>> = [];
  let done = 0;
  try {
    const start = performance.now();
    for (let index = 0; index < total; index++) {
      const wait = start + (index * 1000) / options.rate - performance.now();
      if (wait > 1) await pause(wait);
      else if (index % 32 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      runs.push(
        operation().then((ms) => {
          progress.update(++done);
          return ms;
        }),
      );
    }
    return (await Promise.all(runs)).sort((a, b) => a - b);
  } finally {
    await Promise.allSettled(runs);
    progress.stop();
  }
}
