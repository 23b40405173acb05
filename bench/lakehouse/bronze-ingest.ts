/**
 * Bronze ingest: rows/s of `bronze.ingest` (validation, JSON, the appender, the source's offset in
 * the same transaction) beside the raw `@duckdb/node-api` appender writing the same changes into a
 * plain table with bronze's columns, one transaction per batch. Both get the same batches of the
 * shop's event changes (1,000 changes of one service each, as the shop's sources deliver them),
 * built before the clock starts, each side into a fresh DuckDB file with the same settings, the
 * two writing turn about batch by batch.
 */
import { join } from 'node:path';
import { type BronzeBatch, type BronzeChange, createBronze, openLakehouse } from '@causeway/lakehouse';
import { DuckDBInstance } from '@duckdb/node-api';
import { bronzeChangeOfEvent } from '../../apps/shop/src/services/analytics/event-log-source.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { timeMs } from '../support/measure.ts';
import { note, startProgress } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';
import { appendRawBatch, createRawChangesSql, type RawNumbers } from './raw-bronze.ts';
import { historyOf, shopHistory } from './shop-history.ts';

const batchSize = 1_000;
/** Batches written before the clock starts (file growth, JIT, the appender's first chunk). */
const warmupBatches = 5;

/** Batches of `batchSize` changes of one service each, in the order the services' logs fill them. */
export function changeBatches(changes: number): BronzeBatch[] {
  const pending = new Map<string, BronzeChange[]>();
  const batches: BronzeBatch[] = [];
  // About one change per order line: a history of twice as many lines never runs short.
  for (const { service, message } of shopHistory(historyOf(changes * 2))) {
    const buffer = pending.get(service) ?? [];
    pending.set(service, buffer);
    buffer.push(bronzeChangeOfEvent(service, message));
    if (buffer.length === batchSize) {
      batches.push({ source: service, changes: buffer, position: buffer.at(-1)!.position });
      pending.delete(service);
      if (batches.length * batchSize >= changes) break;
    }
  }
  return batches;
}

/** One side of the comparison: writes a batch (committed when it resolves) and closes. */
interface BatchWriter {
  write(batch: BronzeBatch): Promise<void>;
  close(): Promise<void>;
}

async function openRawAppender(path: string): Promise<BatchWriter> {
  const instance = await DuckDBInstance.create(path, {
    threads: '2',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run(createRawChangesSql('main.changes'));
  const numbers: RawNumbers = { seq: 1n, batchId: 0n, ingestedAtMicros: 0n };
  return {
    write(batch) {
      numbers.batchId += 1n;
      numbers.ingestedAtMicros = BigInt(Date.now()) * 1000n;
      return appendRawBatch(
        connection,
        { schema: 'main', name: 'changes' },
        { changes: batch.changes, numbers },
      );
    },
    async close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

async function openBronze(path: string): Promise<BatchWriter> {
  const lakehouse = await openLakehouse({ path, threads: 2 });
  const bronze = createBronze({ lakehouse });
  await bronze.ensure();
  return {
    async write(batch) {
      const { appended } = await bronze.ingest(batch);
      if (appended !== batch.changes.length)
        throw new Error(`bronze appended ${appended} of the ${batch.changes.length} changes of a batch`);
    },
    close: () => lakehouse.close(),
  };
}

/**
 * Every batch goes to both sides, one after the other, the first of the two alternating: a busy
 * moment of the machine falls on both alike. Returns each side's rows per second.
 */
async function interleave(batches: readonly BronzeBatch[], raw: BatchWriter, ours: BatchWriter) {
  for (const batch of batches.slice(0, warmupBatches)) {
    await raw.write(batch);
    await ours.write(batch);
  }
  const measured = batches.slice(warmupBatches);
  const spent = { raw: 0, ours: 0 };
  const progress = startProgress('lakehouse: bronze ingest', measured.length, ' batches');
  for (const [index, batch] of measured.entries()) {
    const sides = index % 2 === 0 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const);
    for (const side of sides) spent[side] += await timeMs(() => (side === 'raw' ? raw : ours).write(batch));
    progress.update(index + 1);
  }
  progress.stop();
  const rows = measured.length * batchSize;
  return { raw: rows / (spent.raw / 1000), ours: rows / (spent.ours / 1000) };
}

export async function measureBronzeIngest(options: BenchOptions, directory: string): Promise<Figure> {
  const rows = options.quick ? 20_000 : 200_000;
  note(`lakehouse bronze: ${rows.toLocaleString('en-US')} shop event changes in batches of ${batchSize}`);
  const batches = changeBatches(rows + warmupBatches * batchSize);
  const writers: BatchWriter[] = [];
  let rates: { raw: number; ours: number };
  try {
    const raw = await openRawAppender(join(directory, 'raw-ingest.duckdb'));
    writers.push(raw);
    const ours = await openBronze(join(directory, 'bronze-ingest.duckdb'));
    writers.push(ours);
    rates = await interleave(batches, raw, ours);
  } finally {
    for (const writer of writers) await writer.close();
  }
  return figure({
    name: 'lakehouse.bronze_ingest',
    value: rates.ours,
    unit: `rows/s, batches of ${batchSize}`,
    baseline: rates.raw,
    baselineLabel: 'raw DuckDB appender, plain table, a transaction per batch',
    target: { on: 'ratio', atLeast: 0.5 },
  });
}
