/**
 * A reverse sync: a query over the lakehouse whose rows go back into an operational service as
 * that service's own commands (never into its tables). One command per key whose row changed
 * since the last push, including a key that left the result (its row is then null).
 */
import { InvalidArgumentError } from '@causeway/core';
import type { LakehouseRow } from '../lakehouse.ts';

/** What a sync's command is for: the key, its row (null: gone from the result) and the run. */
export interface ReverseChange<Row extends LakehouseRow = LakehouseRow> {
  readonly key: string;
  readonly row: Row | null;
  /** `asOf` is the run's start: a receiver that keeps the latest `asOf` per key ignores older runs. */
  readonly run: { readonly runId: string; readonly asOf: string };
}

/** A command for the target service, delivered like any message (outbox, transport, inbox). */
export interface ReverseCommand {
  readonly destination: string;
  readonly type: string;
  readonly data: unknown;
}

export type ReverseSchedule =
  /** After each successful model run, but not more often than every `minIntervalMs` (default 0). */
  { readonly afterModelRun: true; readonly minIntervalMs?: number } | { readonly everyMs: number };

export interface ReverseSync<Row extends LakehouseRow = LakehouseRow> {
  /** Names the sync in the run log and in every command id. */
  readonly name: string;
  /** One row per key. `relation(model)` names a model's relation where it lives now (e.g. gold). */
  query(relation: (model: string) => string): string;
  /** The column keying a row: the sync pushes per key, and a target applies per key. */
  readonly key: string;
  readonly schedule: ReverseSchedule;
  command(change: ReverseChange<Row>): ReverseCommand;
}

const namePattern = /^[a-z][a-z0-9_-]{0,62}$/;

/** Checks a sync's declaration; answers it typed by its rows. */
export function defineReverseSync<Row extends LakehouseRow = LakehouseRow>(
  sync: ReverseSync<Row>,
): ReverseSync<Row> {
  if (!namePattern.test(sync.name)) {
    throw new InvalidArgumentError(
      'name',
      `A reverse sync's name is lower-case letters, digits, - and _ (starting with a letter), not "${sync.name}"`,
    );
  }
  const interval = 'everyMs' in sync.schedule ? sync.schedule.everyMs : (sync.schedule.minIntervalMs ?? 0);
  if (!Number.isFinite(interval) || interval < 0 || ('everyMs' in sync.schedule && interval < 100)) {
    throw new InvalidArgumentError(
      'schedule',
      `Reverse sync ${sync.name}: give everyMs of at least 100, or a minIntervalMs of 0 or more (not ${interval})`,
    );
  }
  return sync;
}
