/**
 * The transport bench (`npm run bench -- transport [--quick]`): for each transport, the end-to-end
 * rate from service A's commit to service B's handled commit (outbox → relay → broker → consumer
 * with inbox dedupe) and the commit → handled latency at half that rate, each beside the broker's
 * own publish → consume figure with the same client and no database. BENCH_TRANSPORTS=nats,embedded
 * picks transports.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createBenchDatabase } from '../store/postgres-bench-database.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { percentile } from '../support/measure.ts';
import { note } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';
import { chosenFrom, isListening } from '../support/selection.ts';
import { rawBrokerFigures } from './baselines.ts';
import { handWrittenOutboxRate } from './hand-written-outbox.ts';
import { type PipelineFigures, producers, runPipeline } from './pipeline.ts';
import { checkpoint, relayDrainRate } from './relay-drain.ts';
import { natsUrl, type PipelineSpec, rabbitMqUrl, type StoreSpec, type TransportKind } from './setup.ts';

const allTransports: TransportKind[] = ['embedded', 'nats', 'rabbitmq'];
/** The targets: ≥ 4,500 msg/s on PostgreSQL + NATS; p99 ≤ 50 ms on NATS and embedded. */
const rateTargets: Partial<Record<TransportKind, number>> = { nats: 4_500 };
const p99Targets: Partial<Record<TransportKind, number>> = { nats: 50, embedded: 50 };

/** The stores and broker of one run: SQLite files for embedded, one PostgreSQL database for the brokers. */
async function prepare(transport: TransportKind, directory: string) {
  const prefix = `B${randomBytes(4).toString('hex')}`;
  const common = { prefix, destination: 'transfers', group: 'ledger', maxInFlight: 16 };
  if (transport === 'embedded') {
    const sqlite = (name: string): StoreSpec => ({ kind: 'sqlite', filename: join(directory, `${name}.db`) });
    const spec: PipelineSpec = {
      ...common,
      transport,
      transportTarget: join(directory, 'transport.db'),
      producer: sqlite('service-a'),
      consumer: sqlite('service-b'),
    };
    return { spec, backend: 'SQLite', databaseUrl: undefined, drop: async () => {} };
  }
  const database = await createBenchDatabase();
  const postgres = (schema: string): StoreSpec => ({ kind: 'postgres', url: database.url, schema });
  const spec: PipelineSpec = {
    ...common,
    transport,
    transportTarget: transport === 'nats' ? natsUrl : rabbitMqUrl,
    producer: postgres('service_a'),
    consumer: postgres('service_b'),
  };
  return { spec, backend: 'PostgreSQL', databaseUrl: database.url, drop: () => database.drop() };
}

function transportFigures(
  transport: TransportKind,
  backend: string,
  pipeline: PipelineFigures,
  raw: { rate: number; latencies: number[] },
): Figure[] {
  const rateTarget = rateTargets[transport];
  const p99Target = p99Targets[transport];
  const latencyLabel = `one message at a time through the idle broker, publish → consumed, same client`;
  return [
    figure({
      name: `transport.${transport}.e2e`,
      value: pipeline.throughput,
      unit: 'msg/s',
      baseline: raw.rate,
      baselineLabel: `${transport} alone: publish (8 publishers, windows of 100 confirmed) → consume + ack, no database`,
      ...(rateTarget ? { target: { on: 'value' as const, atLeast: rateTarget } } : {}),
    }),
    ...(
      [
        ['p50', pipeline.p50, 0.5],
        ['p99', pipeline.p99, 0.99],
        ['p99.9', pipeline.p999, 0.999],
      ] as const
    ).map(([label, value, fraction]) =>
      figure({
        name: `transport.${transport}.latency.${label}`,
        value,
        unit: `ms at ${Math.round(pipeline.latencyRate)}/s`,
        baseline: percentile(raw.latencies, fraction),
        baselineLabel: `${latencyLabel} (${label})`,
        ...(label === 'p99' && p99Target ? { target: { on: 'value' as const, atMost: p99Target } } : {}),
      }),
    ),
  ].map((item) => ({
    ...item,
    name: item.name,
    baselineLabel: `${item.baselineLabel}; Causeway on ${backend}, ${producers} producers`,
  }));
}

async function walLevel(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level;
  } finally {
    await client.end();
  }
}

/** The WAL-fed relay's pipeline beside the polling relay's, measured in the same run. */
function walRelayFigures(transport: TransportKind, polling: PipelineFigures, wal: PipelineFigures): Figure[] {
  const against = `the same pipeline with the polling relay (claim, publish, mark) in this run; ${producers} producers on PostgreSQL`;
  return [
    figure({
      name: `transport.${transport}.e2e_wal_relay`,
      value: wal.throughput,
      unit: 'msg/s',
      baseline: polling.throughput,
      baselineLabel: against,
    }),
    ...(
      [
        ['p50', wal.p50, polling.p50],
        ['p99', wal.p99, polling.p99],
      ] as const
    ).map(([label, value, baseline]) =>
      figure({
        name: `transport.${transport}.wal_relay.latency.${label}`,
        value,
        unit: `ms at ${Math.round(wal.latencyRate)}/s`,
        baseline,
        baselineLabel: `${against}, at half its own maximum: ${Math.round(polling.latencyRate)}/s (${label})`,
      }),
    ),
  ];
}

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const transport of chosenFrom('BENCH_TRANSPORTS', allTransports)) {
    if (transport === 'nats' && !(await isListening(natsUrl, 4222))) {
      note(`transport bench: NATS is not reachable at ${natsUrl}; skipping it (start nats-server -js)`);
      continue;
    }
    if (transport === 'rabbitmq' && !(await isListening(rabbitMqUrl, 5672))) {
      note(
        `transport bench: RabbitMQ is not reachable at ${rabbitMqUrl}; skipping it (rabbitmq-server -detached)`,
      );
      continue;
    }
    const directory = mkdtempSync(join(tmpdir(), `causeway-bench-${transport}-`));
    const { spec, backend, databaseUrl, drop } = await prepare(transport, directory);
    try {
      note(`transport bench: ${transport} on ${backend}`);
      const raw = await rawBrokerFigures(transport, {
        messages: options.quick ? 2_000 : 30_000,
        samples: options.latencySamples,
        prefix: `${spec.prefix}R`,
      });
      if (databaseUrl) await checkpoint(databaseUrl);
      const pipeline = await runPipeline(spec, options, transport);
      figures.push(...transportFigures(transport, backend, pipeline, raw));
      if (databaseUrl && transport !== 'embedded') {
        if ((await walLevel(databaseUrl)) === 'logical') {
          note(`transport bench: ${transport} on ${backend}, outbox relayed from the WAL`);
          await checkpoint(databaseUrl);
          const wal = await runPipeline(
            {
              ...spec,
              prefix: `${spec.prefix}W`,
              // Schemas of its own: the polling pipeline's tables and inbox do not weigh on it.
              producer: { ...spec.producer, schema: 'service_a_wal' } as StoreSpec,
              consumer: { ...spec.consumer, schema: 'service_b_wal' } as StoreSpec,
            },
            options,
            `${transport} WAL relay`,
            'wal',
          );
          figures.push(...walRelayFigures(transport, pipeline, wal));
          const backlog = options.quick ? 1_000 : 20_000;
          note(`transport bench: ${transport}, the relays alone draining ${backlog} outbox rows`);
          const pollingDrain = await relayDrainRate(
            'polling',
            { ...spec, prefix: `${spec.prefix}P` },
            databaseUrl,
            backlog,
          );
          const walDrain = await relayDrainRate(
            'wal',
            { ...spec, prefix: `${spec.prefix}V` },
            databaseUrl,
            backlog,
          );
          figures.push(
            figure({
              name: `transport.${transport}.relay_drain_wal`,
              value: walDrain,
              unit: 'msg/s',
              baseline: pollingDrain,
              baselineLabel: `the polling relay (claim, publish, mark) draining the same backlog of ${backlog} outbox rows on PostgreSQL in this run; broker confirmations, no consumer`,
            }),
          );
        } else note(`transport bench: PostgreSQL's wal_level is not logical; the WAL relay is not measured`);
      }
      if (transport === 'nats' && databaseUrl) {
        note('transport bench: the hand-written polling outbox on PostgreSQL + NATS');
        const handWritten = await handWrittenOutboxRate(
          databaseUrl,
          `${spec.prefix}H`,
          options.quick ? 1_000 : 10_000,
        );
        figures.push(
          figure({
            name: 'transport.nats.e2e_vs_hand_written',
            value: pipeline.throughput,
            unit: 'msg/s',
            baseline: handWritten,
            baselineLabel: `a plain hand-written polling outbox on the same PostgreSQL + NATS (${producers} producers, 100-row polls, one transaction per consumed message)`,
          }),
        );
      }
    } finally {
      await drop();
      rmSync(directory, { recursive: true, force: true });
    }
  }
  return figures;
}
