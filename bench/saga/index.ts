/**
 * The saga bench (`npm run bench -- saga [--quick]`): a 3-step saga (reserve → charge → confirm)
 * whose two participants run in other processes, on SQLite + the embedded transport and on
 * PostgreSQL + NATS. Sagas completed per second at concurrency 1 and 8, and start → completed
 * latency p50/p99 at half the c=8 rate, each beside the same three steps written as plain
 * sequential inserts in one process. BENCH_SAGA_BACKENDS=sqlite,postgres picks backends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBenchDatabase, postgresServerUrl } from '../store/postgres-bench-database.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { measureThroughput, percentile } from '../support/measure.ts';
import { note } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';
import { chosenFrom, isListening } from '../support/selection.ts';
import { natsUrl, type StoreSpec } from '../transport/setup.ts';
import { createPostgresPlainSagas, createSqlitePlainSagas, type PlainSagas } from './plain-baseline.ts';
import { concurrencies, paced, runSagaBench, type SagaRunFigures, sagaWindows } from './saga-run.ts';
import type { SagaBenchSpec } from './saga-spec.ts';

type Backend = 'sqlite' | 'postgres';
const allBackends: Backend[] = ['sqlite', 'postgres'];
const keys: Record<Backend, string> = { sqlite: 'sqlite_embedded', postgres: 'postgres_nats' };
const titles: Record<Backend, string> = { sqlite: 'SQLite + embedded', postgres: 'PostgreSQL + NATS' };
/** The targets, on PostgreSQL + NATS: ≥ 500 sagas/s at c=8, p99 ≤ 100 ms at half that rate. */
const rateTargets: Partial<Record<Backend, number>> = { postgres: 500 };
const p99Targets: Partial<Record<Backend, number>> = { postgres: 100 };

/** Why the backend cannot run here, or null when its services answer. */
async function unreachable(backend: Backend): Promise<string | null> {
  if (backend === 'sqlite') return null;
  const missing: string[] = [];
  if (!(await isListening(postgresServerUrl, 5432)))
    missing.push(`PostgreSQL at ${new URL(postgresServerUrl).host}`);
  if (!(await isListening(natsUrl, 4222))) missing.push(`NATS at ${natsUrl} (nats-server -js)`);
  return missing.length > 0 ? missing.join(' and ') : null;
}

/** The stores, broker and baseline of one run: SQLite files in `directory`, or one fresh PostgreSQL database. */
async function prepare(backend: Backend, directory: string) {
  const common = { prefix: `S${randomBytes(4).toString('hex')}`, maxInFlight: 32 };
  if (backend === 'sqlite') {
    const sqlite = (name: string): StoreSpec => ({ kind: 'sqlite', filename: join(directory, `${name}.db`) });
    const spec: SagaBenchSpec = {
      ...common,
      transport: 'embedded',
      transportTarget: join(directory, 'transport.db'),
      orders: sqlite('orders'),
      inventory: sqlite('inventory'),
      payments: sqlite('payments'),
    };
    return {
      spec,
      openPlain: async () => createSqlitePlainSagas(join(directory, 'plain.db')),
      drop: async () => {},
    };
  }
  const database = await createBenchDatabase();
  const postgres = (schema: string): StoreSpec => ({ kind: 'postgres', url: database.url, schema });
  const spec: SagaBenchSpec = {
    ...common,
    transport: 'nats',
    transportTarget: natsUrl,
    orders: postgres('orders'),
    inventory: postgres('inventory'),
    payments: postgres('payments'),
  };
  return { spec, openPlain: () => createPostgresPlainSagas(database.url), drop: () => database.drop() };
}

interface PlainFigures {
  rates: Record<number, number>;
  p50: number;
  p99: number;
}

/** The plain inserts at the same concurrencies, and their latency at the saga run's latency rate. */
async function runPlain(
  plain: PlainSagas,
  options: BenchOptions,
  label: string,
  latencyRate: number,
): Promise<PlainFigures> {
  const windows = sagaWindows(options);
  const rates: Record<number, number> = {};
  for (const concurrency of concurrencies) {
    rates[concurrency] = await measureThroughput(
      async () => {
        await plain.runOne();
        return 1;
      },
      {
        label: `${label} plain at c=${concurrency}`,
        concurrency,
        durationMs: windows.durationMs,
        warmupMs: windows.warmupMs,
      },
    );
  }
  const latencies = await paced(
    async () => {
      const begun = performance.now();
      await plain.runOne();
      return performance.now() - begun;
    },
    {
      rate: latencyRate,
      durationMs: windows.latencyMs,
      label: `${label} plain latency at ${Math.round(latencyRate)}/s`,
    },
  );
  return { rates, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

function sagaFigures(backend: Backend, saga: SagaRunFigures, plain: PlainFigures): Figure[] {
  const key = `saga.${keys[backend]}`;
  const where = `${titles[backend]}, participants in 2 other processes`;
  const plainLabel =
    'the 3 step rows + a saga row as plain sequential single-row transactions in one process, no messages';
  const rateTarget = rateTargets[backend];
  const p99Target = p99Targets[backend];
  return [
    ...concurrencies.map((concurrency) =>
      figure({
        name: `${key}.c${concurrency}`,
        value: saga.rates[concurrency]!,
        unit: 'sagas/s',
        baseline: plain.rates[concurrency]!,
        baselineLabel: `${plainLabel}, ${concurrency} loop${concurrency === 1 ? '' : 's'}; Causeway on ${where}`,
        ...(concurrency === 8 && rateTarget ? { target: { on: 'value' as const, atLeast: rateTarget } } : {}),
      }),
    ),
    ...(
      [
        ['p50', saga.p50, plain.p50],
        ['p99', saga.p99, plain.p99],
      ] as const
    ).map(([label, value, baseline]) =>
      figure({
        name: `${key}.latency.${label}`,
        value,
        unit: `ms at ${Math.round(saga.latencyRate)}/s`,
        baseline,
        baselineLabel: `${plainLabel}, paced at the same rate (${label}); Causeway start → completed committed on ${where}, ${saga.samples} sagas`,
        ...(label === 'p99' && p99Target ? { target: { on: 'value' as const, atMost: p99Target } } : {}),
      }),
    ),
  ];
}

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const backend of chosenFrom('BENCH_SAGA_BACKENDS', allBackends)) {
    const missing = await unreachable(backend);
    if (missing) {
      note(
        `\n!!! saga bench: ${missing} not reachable; SKIPPING ${titles[backend]} (no figures, targets not checked) !!!\n`,
      );
      continue;
    }
    const directory = mkdtempSync(join(tmpdir(), `causeway-bench-saga-${backend}-`));
    let drop = async () => {};
    try {
      const prepared = await prepare(backend, directory);
      drop = prepared.drop;
      note(`saga bench: ${titles[backend]} (orchestrator here, inventory and payments in child processes)`);
      const saga = await runSagaBench(prepared.spec, options, keys[backend]);
      note(`saga bench: ${titles[backend]}, the plain-insert baseline`);
      const plain = await prepared.openPlain();
      try {
        figures.push(
          ...sagaFigures(backend, saga, await runPlain(plain, options, keys[backend], saga.latencyRate)),
        );
      } finally {
        await plain.close();
      }
    } finally {
      await drop().catch((error) => note(`cleanup: ${String(error)}`));
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return figures;
}
