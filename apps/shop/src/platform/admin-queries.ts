/**
 * What the admin endpoints read that the Store port has no call for, in plain SQL that runs on
 * SQLite and PostgreSQL alike (the shop's stores have no table prefix; PostgreSQL's search_path
 * starts at the store's schema), and the cursor of the global log as text for a URL.
 */
import type { GlobalCursor, Store, StoredEvent } from '@causeway/core';
import { InvalidRequestError } from './problem.ts';

export interface DeadLetterCounts {
  /** Dead and parked: what still waits for an operator. */
  open: number;
  dead: number;
  parked: number;
  redriven: number;
  discarded: number;
  /** Changes whenever an entry arrives; with the counts, tells a poller when to fetch the list. */
  lastSequence: number;
  /** Grows with every failed attempt, a redrive's included (the entry's reason changed too). */
  attempts: number;
}

export async function deadLetterCounts(store: Store): Promise<DeadLetterCounts> {
  const rows = await store.transaction((tx) =>
    tx.query<{ status: string; n: number | string; last: number | string | null; attempts: number | string }>(
      `SELECT status, count(*) AS n, max(sequence) AS last, sum(attempts) AS attempts
         FROM dead_letters GROUP BY status`,
    ),
  );
  const counts: DeadLetterCounts = {
    open: 0,
    dead: 0,
    parked: 0,
    redriven: 0,
    discarded: 0,
    lastSequence: 0,
    attempts: 0,
  };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.status in counts) counts[row.status as 'dead' | 'parked' | 'redriven' | 'discarded'] = n;
    counts.lastSequence = Math.max(counts.lastSequence, Number(row.last ?? 0));
    counts.attempts += Number(row.attempts ?? 0);
  }
  counts.open = counts.dead + counts.parked;
  return counts;
}

/**
 * How many events the log holds and its head, counted again only when the head moved (a count
 * scans the table; the head is one index lookup).
 */
export function createEventCounter(store: Store) {
  let cached: { head: number; count: number } | undefined;
  return async function countEvents(): Promise<{ head: number; count: number }> {
    const head = await store.events.headPosition();
    if (cached?.head === head) return cached;
    const [row] = await store.transaction((tx) =>
      tx.query<{ n: number | string }>('SELECT count(*) AS n FROM events'),
    );
    cached = { head, count: Number(row?.n ?? 0) };
    return cached;
  };
}

/** The cursor as URL-safe text: a PostgreSQL reader's gap hold must survive the round trip. */
export function encodeCursor(cursor: GlobalCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): GlobalCursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as GlobalCursor;
    if (!Number.isInteger(cursor.position) || cursor.position < 0) throw new Error('no position');
    return cursor;
  } catch {
    throw new InvalidRequestError('The cursor is invalid', { cursor: ['not a cursor this service gave'] });
  }
}

/** What the dashboard shows of an event: no data (it may hold encrypted personal fields). */
export function eventSummary(event: StoredEvent) {
  return {
    globalPosition: event.globalPosition,
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    streamPosition: event.streamPosition,
    correlationId: event.correlationId,
    causationId: event.causationId,
    occurredAt: event.occurredAt,
  };
}

export type EventSummary = ReturnType<typeof eventSummary>;
