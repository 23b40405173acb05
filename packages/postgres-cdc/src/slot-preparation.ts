import { ConfigurationError } from '@causeway/core';
import type pg from 'pg';
import { takeInitialSnapshot } from './initial-snapshot.ts';
import type { ChangeHandler, PostgresChangeSourceOptions } from './postgres-change-source.ts';
import {
  ensureSourceTables,
  readSlotState,
  recordSnapshotCompleted,
  recordSnapshotStarted,
} from './slot-state.ts';
import {
  assertLogicalWalLevel,
  assertSlotUsable,
  type CapturedTable,
  describeTables,
  qualified,
  quoteIdentifier,
  readPublicationTables,
  readSlot,
  splitTableName,
} from './source-catalog.ts';

/** The source's own bookkeeping (schema causeway_cdc): never captured. */
export const sourceSchemas: ReadonlySet<string> = new Set(['causeway_cdc']);

type PreparationOptions = Pick<
  PostgresChangeSourceOptions,
  'slot' | 'publication' | 'tables' | 'operations' | 'slotBusyTimeoutMs' | 'onSlotLost' | 'onSnapshotProgress'
>;

/** Validates everything before changing anything, then creates what is missing. */
export async function prepareSource(
  client: pg.Client,
  options: PreparationOptions,
): Promise<{ database: string; tables: CapturedTable[] }> {
  const { slot, publication } = options;
  await assertLogicalWalLevel(client);
  const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
  const deadline = Date.now() + (options.slotBusyTimeoutMs ?? 0);
  let existingSlot = await readSlot(client, slot);
  while (existingSlot?.active && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    existingSlot = await readSlot(client, slot);
  }
  if (existingSlot !== null) assertSlotUsable(slot, existingSlot, database);
  const published = await readPublicationTables(client, publication);
  const wanted = options.tables?.map(splitTableName);
  if (published === null && wanted === undefined)
    throw new ConfigurationError(
      `Publication ${publication} does not exist: create it (CREATE PUBLICATION ${publication} FOR TABLE ...), or pass the tables to capture and it is created for them`,
      { reason: 'no-publication', publication },
    );
  if (published !== null && wanted !== undefined) {
    const missing = wanted.filter(
      (t) => !published.some((p) => p.schema === t.schema && p.table === t.table),
    );
    if (missing.length > 0)
      throw new ConfigurationError(
        `Publication ${publication} does not include ${missing.map((t) => qualified(t.schema, t.table)).join(', ')}: add them with ALTER PUBLICATION ${publication} ADD TABLE ..., or use another publication`,
        {
          reason: 'publication-mismatch',
          publication,
          missing: missing.map((t) => qualified(t.schema, t.table)),
        },
      );
  }
  const tables = await describeTables(
    client,
    (wanted ?? published ?? []).filter((t) => !sourceSchemas.has(t.schema)),
  );
  if (published === null) {
    const operations = options.operations?.length
      ? ` WITH (publish = '${options.operations.join(', ')}')`
      : '';
    await client.query(
      `CREATE PUBLICATION ${quoteIdentifier(publication)} FOR TABLE ${tables.map((t) => `${quoteIdentifier(t.schema)}.${quoteIdentifier(t.table)}`).join(', ')}${operations}`,
    );
  }
  await ensureSourceTables(client);
  return { database, tables };
}

/** Makes sure the slot exists with a finished snapshot behind it, copying the tables if not. */
export async function ensureSlot(
  client: pg.Client,
  options: PreparationOptions & {
    connectionString: string;
    chunkSize: number;
    database: string;
    captured: CapturedTable[];
    handler: ChangeHandler;
  },
): Promise<void> {
  const { slot, publication, database, captured: tables, handler } = options;
  const state = await readSlotState(client, slot);
  let info = await readSlot(client, slot);
  if (info !== null && info.walStatus === 'lost') {
    options.onSlotLost?.({ slot, reason: 'wal-removed' });
    await dropSlot(client, slot);
    info = null;
  } else if (info === null && state?.snapshotCompleted) {
    options.onSlotLost?.({ slot, reason: 'dropped' });
  }
  if (info !== null && state?.snapshotCompleted) return;
  // A slot whose snapshot did not finish (a crash during the copy) starts over: a sink takes the
  // rows again as op r (an overwrite), while streaming after half a copy would miss rows.
  if (info !== null) await dropSlot(client, slot);
  await takeInitialSnapshot({
    connectionString: options.connectionString,
    slot,
    database,
    tables,
    chunkSize: options.chunkSize,
    onSlotCreated: (consistentPoint) => recordSnapshotStarted(client, { slot, publication, consistentPoint }),
    onChunk: handler,
    onProgress: options.onSnapshotProgress,
  });
  await recordSnapshotCompleted(client, slot);
}

export async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  await client.query(
    'SELECT pg_drop_replication_slot($1) WHERE EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)',
    [slot],
  );
}
