/**
 * The bronze change: one row change in Debezium's shape, whatever the source (PostgreSQL logical
 * replication, an event log). Bronze keeps it as it came; silver models give it meaning.
 */
import { InvalidArgumentError } from '@causeway/core';
import { parseIsoMicros } from './bronze-values.ts';

/** Debezium's operations: create, update, delete, read (a snapshot row), truncate. */
export type BronzeOperation = 'c' | 'u' | 'd' | 'r' | 't';

const operations: ReadonlySet<string> = new Set(['c', 'u', 'd', 'r', 't']);

/** The largest UBIGINT: positions are stored as DuckDB UBIGINT. */
const maxPosition = 2n ** 64n - 1n;

export interface BronzeChange {
  /** Unique per change; a redelivery carries the same id. */
  readonly id: string;
  /** The service the change comes from, e.g. `orders`. */
  readonly source: string;
  /** The table (or stream category) in that service, e.g. `shipments`. */
  readonly table: string;
  readonly op: BronzeOperation;
  /** The primary key columns; null for a truncate. */
  readonly key: Record<string, unknown> | null;
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  /** ISO time of the source's commit, with an offset or `Z` (microseconds are kept). */
  readonly committedAt: string;
  /**
   * The source's position of the change's commit (a PostgreSQL LSN as a 64-bit integer, or an event
   * log's global position). Never decreasing within a source; the changes of one commit share it.
   */
  readonly position: bigint;
}

/** What ingest writes for one source: its changes in source order and the position they bring it to. */
export interface BronzeBatch {
  readonly source: string;
  readonly changes: readonly BronzeChange[];
  /** The source's position after this batch (at least every change's): the stored offset. */
  readonly position: bigint;
  /** An opaque resume token of the source's own (a slot name and LSN, a consumer sequence). */
  readonly cursor?: string;
  /**
   * How a redelivery is recognised. `position` (the default): changes at or below the stored
   * offset. `id`: changes whose id bronze holds already, for a source whose batches share one
   * position (the chunks of PostgreSQL's initial copy all carry the slot's consistent point).
   */
  readonly dedupe?: 'position' | 'id';
}

/**
 * Checks a whole batch before anything is written, so a bad change refuses the batch rather than
 * half of it. Throws InvalidArgumentError naming the change's index and id.
 */
export function validateBatch(batch: BronzeBatch): bigint[] {
  requireText('source', batch.source);
  checkPosition('position', batch.position);
  if (batch.cursor !== undefined && typeof batch.cursor !== 'string') {
    throw new InvalidArgumentError('cursor', `The cursor of source ${batch.source} must be a string`);
  }
  const seen = new Set<string>();
  let previous = 0n;
  return batch.changes.map((change, index) => {
    const committedAtMicros = validateChange(change, index);
    const where = `Change ${index} (${change.id})`;
    if (change.source !== batch.source) {
      fail('source', `${where} is from ${change.source}, but the batch is for ${batch.source}`);
    }
    if (seen.has(change.id)) fail('id', `${where} appears twice in the batch`);
    seen.add(change.id);
    if (change.position < previous)
      fail('position', `${where} goes back to ${change.position} after ${previous}`);
    if (change.position > batch.position) {
      fail('position', `${where} is at ${change.position}, past the batch position ${batch.position}`);
    }
    previous = change.position;
    return committedAtMicros;
  });
}

/** Checks one change; answers its commit time in microseconds, parsed once for the batch. */
function validateChange(change: BronzeChange, index: number): bigint {
  if (change === null || typeof change !== 'object') fail('changes', `Change ${index} is not an object`);
  const where = `Change ${index}`;
  requireText('id', change.id, where);
  requireText('source', change.source, where);
  requireText('table', change.table, where);
  if (!operations.has(change.op)) {
    fail('op', `${where} (${change.id}) has op ${JSON.stringify(change.op)}: expected one of c, u, d, r, t`);
  }
  for (const field of ['key', 'before', 'after'] as const) {
    const value = change[field];
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      fail(field, `${where} (${change.id}): ${field} must be an object or null`);
    }
  }
  checkPosition('position', change.position, where);
  return parseIsoMicros(change.committedAt, `${where} (${change.id}) committedAt`);
}

function requireText(argument: string, value: unknown, where = 'The batch'): void {
  if (typeof value !== 'string' || value.length === 0) {
    fail(argument, `${where} has no ${argument}: a non-empty string is required`);
  }
}

function checkPosition(argument: string, value: unknown, where = 'The batch'): void {
  if (typeof value !== 'bigint' || value < 0n || value > maxPosition) {
    fail(argument, `${where} has position ${String(value)}: a bigint from 0 to 2^64-1 is required`);
  }
}

function fail(argument: string, message: string): never {
  throw new InvalidArgumentError(argument, message);
}
