import { InvalidArgumentError, StoreFailureError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import type { Lakehouse, LakehouseSession } from '../lakehouse.ts';
import { useTestLakehouse } from '../test-support/open-test-lakehouse.ts';
import { createBronze } from './bronze.ts';
import type { BronzeBatch, BronzeChange } from './bronze-change.ts';
import { changeAt, changesBetween } from './test-support/changes.ts';

describe('bronze ingest', () => {
  const openLakehouseForTest = useTestLakehouse();
  async function open() {
    const lakehouse = await openLakehouseForTest();
    return { lakehouse, bronze: createBronze({ lakehouse }) };
  }
  async function countRows(lakehouse: Lakehouse, schema = 'bronze'): Promise<number> {
    const [row] = await lakehouse.all<{ n: number }>(`SELECT count(*) AS n FROM ${schema}.changes`);
    return row!.n;
  }

  it('appends a batch in arrival order and stores the offset with its cursor', async () => {
    const { lakehouse, bronze } = await open();
    const first = await bronze.ingest({
      source: 'orders',
      changes: changesBetween(1n, 3n),
      position: 3n,
      cursor: 'lsn/3',
    });
    const second = await bronze.ingest({ source: 'orders', changes: changesBetween(4n, 5n), position: 7n });
    expect(first).toEqual({ appended: 3, skipped: 0, batchId: 1 });
    expect(second).toEqual({ appended: 2, skipped: 0, batchId: 2 });
    const rows = await lakehouse.all(
      'SELECT ingest_seq, change_id, batch_id FROM bronze.changes ORDER BY ingest_seq',
    );
    expect(rows.map((row) => [row.ingest_seq, row.change_id, row.batch_id])).toEqual([
      [1, 'orders:1', 1],
      [2, 'orders:2', 1],
      [3, 'orders:3', 1],
      [4, 'orders:4', 2],
      [5, 'orders:5', 2],
    ]);
    expect(await bronze.offsetOf('orders')).toMatchObject({ position: 7n, cursor: null, changes: 5 });
    expect(await bronze.offsetOf('payments')).toBeNull();
  });

  it('skips a redelivered batch and the delivered part of an overlapping one, and never moves the offset back', async () => {
    const { lakehouse, bronze } = await open();
    await bronze.ingest({ source: 'orders', changes: changesBetween(1n, 4n), position: 4n, cursor: 'at-4' });
    const again = await bronze.ingest({
      source: 'orders',
      changes: changesBetween(1n, 4n),
      position: 4n,
      cursor: 'x',
    });
    const overlap = await bronze.ingest({ source: 'orders', changes: changesBetween(3n, 6n), position: 6n });
    const stale = await bronze.ingest({
      source: 'orders',
      changes: changesBetween(2n, 2n),
      position: 2n,
      cursor: 'y',
    });
    expect([again, overlap, stale]).toEqual([
      { appended: 0, skipped: 4, batchId: null },
      { appended: 2, skipped: 2, batchId: 2 },
      { appended: 0, skipped: 1, batchId: null },
    ]);
    const positions = await lakehouse.all<{ p: number }>(
      'SELECT position AS p FROM bronze.changes ORDER BY ingest_seq',
    );
    expect(positions.map((row) => row.p)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await bronze.offsetOf('orders')).toMatchObject({ position: 6n, cursor: null, changes: 6 });
  });

  it('tells redeliveries apart by id for batches that share a position (the chunks of an initial copy)', async () => {
    const { lakehouse, bronze } = await open();
    const chunk = (from: number) =>
      [0, 1].map((index) => changeAt(100n, { id: `copy:${from + index}`, op: 'r' as const }));
    const first = await bronze.ingest({ source: 'orders', changes: chunk(0), position: 100n, dedupe: 'id' });
    const second = await bronze.ingest({ source: 'orders', changes: chunk(2), position: 100n, dedupe: 'id' });
    const again = await bronze.ingest({ source: 'orders', changes: chunk(2), position: 100n, dedupe: 'id' });
    expect([first.appended, second.appended, again.appended, again.skipped]).toEqual([2, 2, 0, 2]);
    expect(await countRows(lakehouse)).toBe(4);
    // By position, the second chunk would have been taken for a redelivery of the first.
    const byPosition = await bronze.ingest({ source: 'orders', changes: chunk(4), position: 100n });
    expect(byPosition.appended).toBe(0);
    expect((await bronze.offsetOf('orders'))?.position).toBe(100n);
  });

  it('keeps offsets per source: one source at a high position does not hide another', async () => {
    const { bronze } = await open();
    await bronze.ingest({ source: 'orders', changes: changesBetween(100n, 101n), position: 101n });
    const payments = await bronze.ingest({
      source: 'payments',
      changes: changesBetween(1n, 2n, 'payments'),
      position: 2n,
    });
    expect(payments.appended).toBe(2);
    expect((await bronze.offsets()).map((offset) => [offset.source, offset.position])).toEqual([
      ['orders', 101n],
      ['payments', 2n],
    ]);
  });

  it('moves the offset on an empty batch (a source heartbeat past changes of no interest)', async () => {
    const { lakehouse, bronze } = await open();
    expect(await bronze.ingest({ source: 'orders', changes: [], position: 42n, cursor: 'c' })).toEqual({
      appended: 0,
      skipped: 0,
      batchId: null,
    });
    expect(await bronze.offsetOf('orders')).toMatchObject({ position: 42n, cursor: 'c', changes: 0 });
    expect(await countRows(lakehouse)).toBe(0);
  });

  it('rolls back the appender rows with the transaction (DuckDB appends into the open transaction)', async () => {
    const { lakehouse, bronze } = await open();
    await bronze.ensure();
    let seenInside = -1;
    await expect(
      lakehouse.transaction(async (session) => {
        const appender = await session.connection.createAppender('changes', 'bronze');
        appendMinimalRow(appender);
        appender.closeSync();
        const [row] = await session.all<{ n: number }>('SELECT count(*) AS n FROM bronze.changes');
        seenInside = row!.n;
        throw new Error('after the append');
      }),
    ).rejects.toThrow('after the append');
    expect(seenInside).toBe(1);
    expect(await countRows(lakehouse)).toBe(0);
  });

  it('commits a batch with its offset or neither: a failing offset write leaves no rows', async () => {
    const { lakehouse, bronze } = await open();
    await bronze.ingest({ source: 'orders', changes: changesBetween(1n, 2n), position: 2n });
    // The offsets become a read-only view: the read before the append works, the write after it fails.
    await lakehouse.exclusive(async (session) => {
      await session.run('CREATE TABLE bronze.kept_offsets AS SELECT * FROM bronze.source_offsets');
      await session.run('DROP TABLE bronze.source_offsets');
      await session.run('CREATE VIEW bronze.source_offsets AS SELECT * FROM bronze.kept_offsets');
    });
    const failing = bronze.ingest({ source: 'orders', changes: changesBetween(3n, 5n), position: 5n });
    await expect(failing).rejects.toBeInstanceOf(StoreFailureError);
    expect(await countRows(lakehouse)).toBe(2);
  });

  it('rolls back the rows when the transaction fails after the append, seen from inside', async () => {
    const { lakehouse } = await open();
    let rowsBeforeFailure = -1;
    // The same lakehouse, but its transaction's session fails the offset write after counting the rows.
    const failingOffsets: Lakehouse = {
      ...lakehouse,
      transaction: (work) =>
        lakehouse.transaction((session) => work(failOffsetWrite(session, (n) => (rowsBeforeFailure = n)))),
    };
    const bronze = createBronze({ lakehouse: failingOffsets });
    await expect(
      bronze.ingest({ source: 'orders', changes: changesBetween(1n, 3n), position: 3n }),
    ).rejects.toThrow('offset write failed');
    expect(rowsBeforeFailure).toBe(3);
    expect(await countRows(lakehouse)).toBe(0);
    expect(await createBronze({ lakehouse }).offsetOf('orders')).toBeNull();
  });

  it('keeps positions past 2^63 (LSNs) exact, in rows and offsets', async () => {
    const { lakehouse, bronze } = await open();
    const high = 2n ** 63n + 12_345n;
    const highest = 2n ** 64n - 1n;
    await bronze.ingest({
      source: 'orders',
      changes: [changeAt(high), changeAt(highest)],
      position: highest,
    });
    const rows = await lakehouse.all<{ p: string }>(
      'SELECT position::VARCHAR AS p FROM bronze.changes ORDER BY ingest_seq',
    );
    expect(rows.map((row) => BigInt(row.p))).toEqual([high, highest]);
    expect((await bronze.offsetOf('orders'))?.position).toBe(highest);
    const replay = await bronze.ingest({ source: 'orders', changes: [changeAt(highest)], position: highest });
    expect(replay.skipped).toBe(1);
    await expect(
      bronze.ingest({ source: 'orders', changes: [], position: 2n ** 64n }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('keeps nested JSON faithfully: bigints as strings, dates as ISO, bytes as hex, absent stays absent', async () => {
    const { lakehouse, bronze } = await open();
    const after = {
      id: 12345678901234567890n,
      lines: [{ sku: 'a-1', quantity: 2, price: { amount: '19.90', currency: 'EUR' } }, null],
      placedAt: new Date('2026-01-02T03:04:05.678Z'),
      photo: Buffer.from([0xde, 0xad]),
      note: 'quote " and \u00e9',
      ratio: Number.NaN,
      missing: undefined,
    };
    const committedAt = '2026-01-02T05:04:05.123456+02:00';
    await bronze.ingest({
      source: 'orders',
      changes: [changeAt(1n, { op: 'u', after, committedAt })],
      position: 1n,
    });
    const [row] = await lakehouse.all<{ after: string; committed: number; key: string; before: null }>(
      'SELECT after::VARCHAR AS after, key::VARCHAR AS key, before, epoch_us(committed_at) AS committed FROM bronze.changes',
    );
    expect(JSON.parse(row!.after)).toEqual({
      id: '12345678901234567890',
      lines: [{ sku: 'a-1', quantity: 2, price: { amount: '19.90', currency: 'EUR' } }, null],
      placedAt: '2026-01-02T03:04:05.678Z',
      photo: '\\xdead',
      note: 'quote " and \u00e9',
      ratio: 'NaN',
    });
    expect(JSON.parse(row!.key)).toEqual({ id: '1' });
    expect(row!.before).toBeNull();
    expect(row!.committed).toBe(Date.parse('2026-01-02T03:04:05.123Z') * 1000 + 456);
  });

  it.each<[string, (changes: BronzeChange[]) => Partial<BronzeBatch>]>([
    ['an op outside the five', (changes) => ({ changes: [...changes, { ...changeAt(9n), op: 'x' as 'c' }] })],
    ['a change without id', (changes) => ({ changes: [...changes, { ...changeAt(9n), id: '' }] })],
    [
      'a change without table',
      (changes) => ({ changes: [...changes, { ...changeAt(9n), table: undefined as never }] }),
    ],
    [
      'a change of another source',
      (changes) => ({ changes: [...changes, changeAt(9n, { source: 'payments' })] }),
    ],
    ['a change past the batch position', (changes) => ({ changes: [...changes, changeAt(99n)] })],
    ['positions going back', (changes) => ({ changes: [...changes, changeAt(1n, { id: 'late' })] })],
    ['the same id twice', (changes) => ({ changes: [...changes, changes[0]!] })],
    ['an array as after', (changes) => ({ changes: [...changes, changeAt(9n, { after: [] as never })] })],
    [
      'a time without offset',
      (changes) => ({ changes: [...changes, changeAt(9n, { committedAt: '2026-01-02T03:04:05' })] }),
    ],
    ['a number as position', () => ({ position: 10 as never })],
    ['a row JSON cannot hold', (changes) => ({ changes: [...changes, changeAt(9n, { after: cyclic() })] })],
  ])('writes nothing for a batch with %s', async (_, spoil) => {
    const { lakehouse, bronze } = await open();
    await bronze.ensure();
    const changes = changesBetween(1n, 3n);
    const batch = { source: 'orders', changes, position: 10n, ...spoil(changes) };
    await expect(bronze.ingest(batch)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await countRows(lakehouse)).toBe(0);
    expect(await bronze.offsetOf('orders')).toBeNull();
  });

  it('keeps a shadow schema apart and refuses a schema name that is not plain', async () => {
    const { lakehouse, bronze } = await open();
    const shadow = createBronze({ lakehouse, schema: 'g2_bronze' });
    await shadow.ingest({ source: 'orders', changes: changesBetween(1n, 2n), position: 2n });
    await bronze.ensure();
    expect([await countRows(lakehouse, 'g2_bronze'), await countRows(lakehouse)]).toEqual([2, 0]);
    expect(() => createBronze({ lakehouse, schema: 'x; DROP TABLE y' })).toThrow(InvalidArgumentError);
  });
});

function appendMinimalRow(
  appender: Awaited<ReturnType<LakehouseSession['connection']['createAppender']>>,
): void {
  appender.appendBigInt(1n);
  for (const text of ['id-1', 'orders', 'events', 'c']) appender.appendVarchar(text);
  for (let json = 0; json < 3; json++) appender.appendNull();
  appender.appendUBigInt(1n);
  appender.appendVarchar('2026-01-01 00:00:00+00');
  appender.appendVarchar('2026-01-01 00:00:00+00');
  appender.appendBigInt(1n);
  appender.endRow();
}

function failOffsetWrite(session: LakehouseSession, countRows: (n: number) => void): LakehouseSession {
  return {
    connection: session.connection,
    all: (sql, parameters) => session.all(sql, parameters),
    async run(sql, parameters) {
      if (/INSERT INTO .*source_offsets/s.test(sql)) {
        const [row] = await session.all<{ n: number }>('SELECT count(*) AS n FROM bronze.changes');
        countRows(row!.n);
        throw new Error('offset write failed');
      }
      return session.run(sql, parameters);
    },
  };
}

function cyclic(): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  row.self = row;
  return row;
}
