import { expect, it } from 'vitest';
import type { ChangeTransaction } from './change.ts';
import { parseSnapshot, visibleIn } from './read-snapshot.ts';
import { createStreamedTransactions } from './streamed-transactions.ts';

it('reads pg_current_snapshot() as 32-bit ids and tells what a read saw, across the 2^32 wrap', () => {
  const snapshot = parseSnapshot('4294967390:4294967400:4294967392,4294967395');
  expect(snapshot).toEqual({ xmin: 94, xmax: 104, running: new Set([96, 99]) });
  expect(visibleIn(snapshot, 93)).toBe(true);
  expect(visibleIn(snapshot, 95)).toBe(true);
  expect(visibleIn(snapshot, 96)).toBe(false);
  expect(visibleIn(snapshot, 104)).toBe(false);
  // Just below the wrap, from a snapshot just above it: older, so seen.
  expect(visibleIn(snapshot, 4_294_967_290)).toBe(true);

  const beforeWrap = parseSnapshot('4294967290:4294967294:');
  expect(visibleIn(beforeWrap, 3)).toBe(false);
  expect(visibleIn(beforeWrap, 4_294_967_291)).toBe(true);
});

const transaction = (xid: number, tables: string[]): ChangeTransaction =>
  ({
    snapshot: false,
    xid,
    lsn: '0/0',
    commitTime: new Date(0).toISOString(),
    messages: [],
    changes: tables.map((table) => ({ source: { schema: 'public', table } })),
  }) as unknown as ChangeTransaction;

it('remembers which table each streamed transaction changed, up to its capacity', () => {
  const streamed = createStreamedTransactions(4);
  streamed.record(transaction(10, ['a']));
  streamed.record(transaction(11, ['b']));
  const afterTwo = streamed.position;
  streamed.record(transaction(12, ['a', 'b']));
  const unseen = (ids: number[]) => (xid: number) => !ids.includes(xid);

  expect(streamed.anyBefore(afterTwo, 'public', 'a', unseen([10]))).toBe(true);
  expect(streamed.anyBefore(afterTwo, 'public', 'a', unseen([11]))).toBe(false);
  // Recorded after the position: not asked about.
  expect(streamed.anyBefore(afterTwo, 'public', 'a', unseen([12]))).toBe(false);
  // A transaction of several tables counts for each, and for a table it never met by name.
  expect(streamed.anyBefore(streamed.position, 'public', 'b', unseen([12]))).toBe(true);
  expect(streamed.anyBefore(streamed.position, 'public', 'c', unseen([12]))).toBe(true);
  expect(streamed.anyBefore(streamed.position, 'public', 'c', unseen([10, 11]))).toBe(false);

  for (const xid of [13, 14, 15, 16]) streamed.record(transaction(xid, ['c']));
  // The ring holds the last four only.
  expect(streamed.anyBefore(streamed.position, 'public', 'a', unseen([10, 12]))).toBe(false);
  expect(streamed.anyBefore(streamed.position, 'public', 'c', unseen([13]))).toBe(true);
});
