/**
 * The change data capture bench (`npm run bench -- cdc [--quick]`), on PostgreSQL with
 * wal_level=logical:
 * - catch-up: rows/s from a backlog of committed single-row transactions to handled (and
 *   acknowledged), beside pg-logical-replication's own service decoding the same backlog from a
 *   second slot with its default settings (acknowledging on receipt, handler not awaited): the
 *   bare replication client;
 * - latency: commit → handled p50 and p99 with single-row transactions paced at half the lower of
 *   the writers' and the source's rates, both clients reading the same commits at once;
 * - snapshot: rows/s of the initial copy, beside `COPY … TO STDOUT` by psql of the same table.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createPostgresChangeSource } from '@causeway/postgres-cdc';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { createBenchDatabase } from '../store/postgres-bench-database.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { pause, percentile } from '../support/measure.ts';
import { note, startProgress } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';

const run = promisify(execFile);
const writers = 4;

async function requireLogicalWal(client: pg.Client): Promise<void> {
  const level = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
  if (level !== 'logical')
    throw new Error(
      `The cdc bench needs PostgreSQL with wal_level=logical (it runs with ${level}): psql -U postgres -c "ALTER SYSTEM SET wal_level = logical", then restart PostgreSQL`,
    );
}

/** Commits `rows` single-row inserts from `writers` connections; returns transactions per second. */
async function writeBacklog(url: string, firstId: number, rows: number): Promise<number> {
  const progress = startProgress('cdc: writing the backlog', rows);
  let written = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      for (let id = firstId + writer; id < firstId + rows; id += writers) {
        await client.query('INSERT INTO bench_rows VALUES ($1, $2, $3)', [
          id,
          id % 100,
          `row ${id} `.padEnd(100, 'x'),
        ]);
        written += 1;
        if (written % 200 === 0) progress.update(written);
      }
      await client.end();
    }),
  );
  progress.stop();
  return rows / ((performance.now() - start) / 1000);
}

/** The bare client: the library's service with its defaults, counting inserts until `rows`. */
async function bareClient(url: string, slot: string, publication: string, onInsert: (id: number) => void) {
  const service = new LogicalReplicationService({ connectionString: url });
  service.on('error', () => {});
  service.on('data', (_lsn: string, message: { tag: string; new?: { id: string } }) => {
    if (message.tag === 'insert') onInsert(Number(message.new!.id));
  });
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] });
  service.subscribe(plugin, slot).catch(() => {});
  return { stop: () => service.stop() };
}

/** A database with a logical slot cannot be dropped: the slots go first, once their readers let go. */
async function dropSlots(admin: pg.Client): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()',
      );
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await pause(100);
    }
  }
}

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  const rows = options.quick ? 3_000 : 40_000;
  const database = await createBenchDatabase();
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  const stoppers: Array<() => Promise<unknown>> = [];
  try {
    await requireLogicalWal(admin);
    note(`cdc bench: database ${database.name}, ${rows.toLocaleString('en-US')} single-row transactions`);
    await admin.query('CREATE TABLE bench_rows (id bigint PRIMARY KEY, n int NOT NULL, body text NOT NULL)');
    await admin.query('CREATE PUBLICATION bench_pub FOR TABLE bench_rows');
    await admin.query("SELECT pg_create_logical_replication_slot('bench_bare', 'pgoutput')");

    // Our source's slot exists (empty snapshot) before the backlog is written; then it stops.
    const source = createPostgresChangeSource({
      connectionString: database.url,
      slot: 'bench_source',
      publication: 'bench_pub',
    });
    await source.start(async () => {});
    await source.stop();
    const producerRate = await writeBacklog(database.url, 1, rows);

    // Catch-up, ours: from start to the last row handled and acknowledged.
    let handled = 0;
    let caughtUp: () => void = () => {};
    const allHandled = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    const latest = new Map<number, number>();
    const catchUp = createPostgresChangeSource({
      connectionString: database.url,
      slot: 'bench_source',
      publication: 'bench_pub',
    });
    stoppers.push(() => catchUp.stop());
    const oursStart = performance.now();
    await catchUp.start(async ({ changes }) => {
      const now = performance.now();
      for (const change of changes) latest.set(Number(change.key!.id), now);
      handled += changes.length;
      if (handled >= rows) caughtUp();
    });
    await allHandled;
    const oursRate = rows / ((performance.now() - oursStart) / 1000);

    // Catch-up, the bare client on its own slot, the same backlog.
    let bareSeen = 0;
    let bareDone: () => void = () => {};
    const bareAll = new Promise<void>((resolve) => {
      bareDone = resolve;
    });
    const bareLatest = new Map<number, number>();
    const bareStart = performance.now();
    const bare = await bareClient(database.url, 'bench_bare', 'bench_pub', (id) => {
      bareLatest.set(id, performance.now());
      bareSeen += 1;
      if (bareSeen >= rows) bareDone();
    });
    stoppers.push(() => bare.stop());
    await bareAll;
    const bareRate = rows / ((performance.now() - bareStart) / 1000);
    note(
      `cdc catch-up: ours ${Math.round(oursRate)} rows/s, bare client ${Math.round(bareRate)} rows/s, writers ${Math.round(producerRate)} tx/s`,
    );

    // Latency: both clients live, single-row commits paced at half the lower rate.
    const rate = Math.min(producerRate, oursRate) / 2;
    const samples = options.quick ? 200 : Math.round(Math.min(rate * 10, 5_000));
    const committedAt = new Map<number, number>();
    const writer = new pg.Client({ connectionString: database.url });
    await writer.connect();
    const firstId = rows + 1;
    const progress = startProgress(`cdc: paced at ${Math.round(rate)}/s`, samples);
    const begin = performance.now();
    for (let index = 0; index < samples; index++) {
      const due = begin + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await pause(wait);
      const id = firstId + index;
      await writer.query('INSERT INTO bench_rows VALUES ($1, 0, $2)', [id, 'paced']);
      committedAt.set(id, performance.now());
      if (index % 50 === 0) progress.update(index);
    }
    progress.stop();
    await writer.end();
    const deadline = performance.now() + 30_000;
    while ((handled < rows + samples || bareSeen < rows + samples) && performance.now() < deadline)
      await pause(20);
    const latencies = (seen: Map<number, number>) =>
      [...committedAt]
        .map(([id, at]) => Math.max(0, (seen.get(id) ?? Number.POSITIVE_INFINITY) - at))
        .sort((a, b) => a - b);
    const ours = latencies(latest);
    const baseline = latencies(bareLatest);

    // Snapshot: a new slot copies the table; psql's COPY of the same table is the baseline.
    const tableRows = rows + samples;
    const copyStart = performance.now();
    await run('psql', [database.url, '-qAtc', 'COPY bench_rows TO STDOUT'], {
      maxBuffer: 1024 * 1024 * 1024,
    });
    const copyRate = tableRows / ((performance.now() - copyStart) / 1000);
    let copied = 0;
    const snapshot = createPostgresChangeSource({
      connectionString: database.url,
      slot: 'bench_snapshot',
      publication: 'bench_pub',
      snapshotChunkSize: 1024,
    });
    stoppers.push(() => snapshot.stop());
    const snapshotStart = performance.now();
    await snapshot.start(async ({ changes, snapshot: isSnapshot }) => {
      if (isSnapshot) copied += changes.length;
    });
    const snapshotRate = copied / ((performance.now() - snapshotStart) / 1000);
    if (copied !== tableRows) throw new Error(`The snapshot copied ${copied} rows of ${tableRows}`);

    return [
      figure({
        name: 'cdc.postgres.catch_up',
        value: oursRate,
        unit: 'rows/s',
        baseline: bareRate,
        baselineLabel: 'pg-logical-replication service, defaults (acks on receipt)',
        target: { on: 'ratio', atLeast: 0.5 },
      }),
      figure({
        name: 'cdc.postgres.latency.p50',
        value: percentile(ours, 0.5),
        unit: `ms at ${Math.round(rate)}/s`,
        baseline: percentile(baseline, 0.5),
        baselineLabel: 'the same service, same commits',
      }),
      figure({
        name: 'cdc.postgres.latency.p99',
        value: percentile(ours, 0.99),
        unit: `ms at ${Math.round(rate)}/s`,
        baseline: percentile(baseline, 0.99),
        baselineLabel: 'the same service, same commits',
        target: { on: 'value', atMost: 50 },
      }),
      figure({
        name: 'cdc.postgres.snapshot',
        value: snapshotRate,
        unit: 'rows/s',
        baseline: copyRate,
        baselineLabel: 'psql COPY ... TO STDOUT',
      }),
    ];
  } finally {
    for (const stop of stoppers) await stop().catch(() => {});
    await dropSlots(admin).catch((error: unknown) =>
      note(`cdc bench: could not drop its slots: ${String(error)}`),
    );
    await admin.end().catch(() => {});
    await database.drop();
  }
}
