import type pg from 'pg';

/**
 * What the source remembers beside its slot, in the captured database (schema causeway_cdc): the
 * consistent point of the slot's snapshot and whether the copy finished. A slot without a finished
 * snapshot is dropped and taken again; a finished snapshot whose slot is gone means the slot was
 * lost, and the tables are copied again rather than their changes skipped.
 */
export interface SlotState {
  readonly slot: string;
  readonly publication: string;
  readonly consistentPoint: string;
  readonly snapshotCompleted: boolean;
}

export async function ensureSourceTables(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    // Two sources starting at once on a fresh database would race on CREATE ... IF NOT EXISTS.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('causeway_cdc.slots'))");
    await client.query('CREATE SCHEMA IF NOT EXISTS causeway_cdc');
    await client.query(`CREATE TABLE IF NOT EXISTS causeway_cdc.slots (
      slot text PRIMARY KEY,
      publication text NOT NULL,
      consistent_point pg_lsn NOT NULL,
      snapshot_started_at timestamptz NOT NULL DEFAULT now(),
      snapshot_completed_at timestamptz
    )`);
    // The progress of table re-copies (table-snapshot.ts), per slot.
    await client.query(`CREATE TABLE IF NOT EXISTS causeway_cdc.table_snapshots (
      slot text NOT NULL,
      table_name text NOT NULL,
      last_key jsonb,
      generation int NOT NULL DEFAULT 0,
      chunk int NOT NULL DEFAULT 0,
      rows bigint NOT NULL DEFAULT 0,
      done boolean NOT NULL DEFAULT false,
      requested_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      PRIMARY KEY (slot, table_name)
    )`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

export async function readSlotState(client: pg.Client, slot: string): Promise<SlotState | null> {
  const { rows } = await client.query(
    `SELECT publication, consistent_point::text AS point, snapshot_completed_at IS NOT NULL AS completed
       FROM causeway_cdc.slots WHERE slot = $1`,
    [slot],
  );
  const row = rows[0];
  return row === undefined
    ? null
    : { slot, publication: row.publication, consistentPoint: row.point, snapshotCompleted: row.completed };
}

export async function recordSnapshotStarted(
  client: pg.Client,
  state: { slot: string; publication: string; consistentPoint: string },
): Promise<void> {
  await client.query(
    `INSERT INTO causeway_cdc.slots (slot, publication, consistent_point) VALUES ($1, $2, $3)
     ON CONFLICT (slot) DO UPDATE SET publication = $2, consistent_point = $3,
       snapshot_started_at = now(), snapshot_completed_at = NULL`,
    [state.slot, state.publication, state.consistentPoint],
  );
}

export async function recordSnapshotCompleted(client: pg.Client, slot: string): Promise<void> {
  await client.query('UPDATE causeway_cdc.slots SET snapshot_completed_at = now() WHERE slot = $1', [slot]);
}

export async function deleteSlotState(client: pg.Client, slot: string): Promise<void> {
  for (const table of ['causeway_cdc.slots', 'causeway_cdc.table_snapshots'])
    await client.query(`DELETE FROM ${table} WHERE slot = $1`, [slot]).catch((error: { code?: string }) => {
      if (error.code !== '42P01') throw error; // no table: nothing was ever recorded
    });
}
