/**
 * What a read saw, from `pg_current_snapshot()`. PostgreSQL streams a commit once its record is
 * flushed and makes it visible a moment later, so a read right after a streamed commit may not
 * see it yet: the table re-copy and the WAL relay's marks check with these.
 */
/** The transactions a read did not see, as 32-bit ids (the stream's). */
export interface ReadSnapshot {
  readonly xmin: number;
  readonly xmax: number;
  readonly running: ReadonlySet<number>;
}

const xid32 = (xid8: string) => Number(BigInt.asUintN(32, BigInt(xid8)));

export function parseSnapshot(text: string): ReadSnapshot {
  const [xmin, xmax, running = ''] = text.split(':');
  return {
    xmin: xid32(xmin!),
    xmax: xid32(xmax!),
    running: new Set(running === '' ? [] : running.split(',').map(xid32)),
  };
}

/** PostgreSQL's TransactionIdPrecedes: ids compare modulo 2^32. */
const precedes = (a: number, b: number) => ((a - b) | 0) < 0;

/** Whether a committed transaction's changes are in what a read with this snapshot saw. */
export function visibleIn(snapshot: ReadSnapshot, xid: number): boolean {
  if (precedes(xid, snapshot.xmin)) return true;
  return precedes(xid, snapshot.xmax) && !snapshot.running.has(xid);
}
