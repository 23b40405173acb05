/**
 * Appender against INSERT per row, on a DuckDB file: rows per second of `bronze.ingest` (the
 * appender, with its offset write) and of the same rows through a prepared INSERT run once per row
 * in one transaction per batch. Prints one line per (method, batch size).
 *
 *   node --conditions=@causeway/source --import tsx measure-ingest.ts [directory]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lakehouse, openLakehouse } from '../../lakehouse.ts';
import { toBronzeRows } from '../append-changes.ts';
import { createBronze } from '../bronze.ts';
import type { BronzeChange } from '../bronze-change.ts';
import { changeAt } from './changes.ts';

const directory = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'bronze-measure-'));
const totalRows = 20_000;

function orderChange(position: bigint): BronzeChange {
  const after = {
    id: position.toString(),
    customer: `c-${position % 97n}`,
    total: '123.45',
    lines: [{ sku: 'a', q: 2 }],
  };
  return changeAt(position, { after });
}

async function withAppender(lakehouse: Lakehouse, batchSize: number): Promise<number> {
  const bronze = createBronze({ lakehouse, schema: 'appended' });
  await bronze.ensure();
  const began = performance.now();
  for (let from = 1; from <= totalRows; from += batchSize) {
    const changes = Array.from({ length: batchSize }, (_, index) => orderChange(BigInt(from + index)));
    await bronze.ingest({ source: 'orders', changes, position: BigInt(from + batchSize - 1) });
  }
  return performance.now() - began;
}

async function withInsertPerRow(lakehouse: Lakehouse, batchSize: number, rows: number): Promise<number> {
  await createBronze({ lakehouse, schema: 'inserted' }).ensure();
  const began = performance.now();
  for (let from = 1; from <= rows; from += batchSize) {
    const changes = Array.from({ length: batchSize }, (_, index) => orderChange(BigInt(from + index)));
    await lakehouse.transaction(async (session) => {
      const insert = await session.connection.prepare(
        `INSERT INTO inserted.changes VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::UBIGINT, make_timestamptz($10), now(), 1)`,
      );
      for (const [index, row] of toBronzeRows(changes).entries()) {
        const { change } = row;
        insert.bind([
          from + index,
          change.id,
          change.source,
          change.table,
          change.op,
          row.key,
          row.before,
          row.after,
        ]);
        insert.bindVarchar(9, change.position.toString());
        insert.bindBigInt(10, row.committedAtMicros);
        await insert.run();
      }
    });
  }
  return performance.now() - began;
}

for (const batchSize of [100, 1000]) {
  const path = join(directory, `measure-${batchSize}.duckdb`);
  rmSync(path, { force: true });
  const lakehouse = await openLakehouse({ path });
  const appendMs = await withAppender(lakehouse, batchSize);
  const insertRows = 2_000; // INSERT per row is slow: fewer rows, the same batches
  const insertMs = await withInsertPerRow(lakehouse, batchSize, insertRows);
  await lakehouse.close();
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const rate = (rows: number, ms: number) => Math.round((rows / ms) * 1000).toLocaleString('en');
  console.log(
    `batch ${batchSize}: appender ${rate(totalRows, appendMs)} rows/s, INSERT per row ${rate(insertRows, insertMs)} rows/s`,
  );
}
