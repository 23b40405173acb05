import { ConfigurationError } from '@causeway/core';
import type pg from 'pg';

/** A captured table and the columns that identify its rows. */
export interface CapturedTable {
  readonly schema: string;
  readonly table: string;
  readonly keyColumns: readonly string[];
  readonly replicaIdentity: 'default' | 'full' | 'index' | 'nothing';
}

export interface SlotInfo {
  readonly active: boolean;
  readonly activePid: number | null;
  readonly plugin: string | null;
  readonly database: string | null;
  /** `lost` once max_slot_wal_keep_size removed WAL the slot still needed. */
  readonly walStatus: string | null;
  readonly confirmedFlushLsn: string | null;
}

export const qualified = (schema: string, table: string) => `${schema}.${table}`;

/** An identifier as SQL text, quoted: table and column names come from the catalog or the caller. */
export const quoteIdentifier = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Splits `schema.table` (or `table`, in `public`) into its parts. */
export function splitTableName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0
    ? { schema: 'public', table: name }
    : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

export async function assertLogicalWalLevel(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
  const level = rows[0]?.wal_level;
  if (level !== 'logical')
    throw new ConfigurationError(
      `PostgreSQL runs with wal_level=${level}; change data capture needs wal_level=logical: run ALTER SYSTEM SET wal_level = logical and restart the server`,
      { reason: 'wal-level', walLevel: level },
    );
}

export async function readSlot(client: pg.Client, slot: string): Promise<SlotInfo | null> {
  const { rows } = await client.query(
    `SELECT active, active_pid, plugin, database, wal_status, confirmed_flush_lsn::text AS confirmed
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    active: row.active,
    activePid: row.active_pid,
    plugin: row.plugin,
    database: row.database,
    walStatus: row.wal_status,
    confirmedFlushLsn: row.confirmed,
  };
}

export function assertSlotUsable(slot: string, info: SlotInfo, database: string): void {
  if (info.active)
    throw new ConfigurationError(
      `Replication slot ${slot} is in use by another consumer (backend pid ${info.activePid}): stop that consumer, or give this one another slot name`,
      { reason: 'slot-in-use', slot, activePid: info.activePid },
    );
  if (info.plugin !== 'pgoutput' || info.database !== database)
    throw new ConfigurationError(
      `Replication slot ${slot} exists for ${info.plugin ?? 'physical replication'} on database ${info.database ?? '(none)'}, not pgoutput on ${database}: choose another slot name`,
      { reason: 'slot-foreign', slot },
    );
}

/** The publication's tables, or null when there is no such publication. */
export async function readPublicationTables(
  client: pg.Client,
  publication: string,
): Promise<Array<{ schema: string; table: string }> | null> {
  const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
  if (exists.rowCount === 0) return null;
  const { rows } = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2',
    [publication],
  );
  return rows.map((row) => ({ schema: row.schemaname, table: row.tablename }));
}

/**
 * Each table's identifying columns: the replica identity index if one is set, else the primary
 * key. A table with neither cannot be captured key by key, and is refused with what to do.
 */
export async function describeTables(
  client: pg.Client,
  tables: ReadonlyArray<{ schema: string; table: string }>,
): Promise<CapturedTable[]> {
  const described: CapturedTable[] = [];
  for (const { schema, table } of tables) {
    const { rows } = await client.query<{
      relreplident: string;
      indisprimary: boolean;
      indisreplident: boolean;
      columns: string[];
    }>(
      `SELECT c.relreplident, i.indisprimary, i.indisreplident,
              array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_index i ON i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident)
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    );
    if (rows.length === 0)
      throw new ConfigurationError(
        `Table ${qualified(schema, table)} does not exist: create it, or leave it out of the capture`,
        {
          reason: 'no-table',
          table: qualified(schema, table),
        },
      );
    const identity = rows.find((row) => row.indisreplident) ?? rows.find((row) => row.indisprimary);
    const replicaIdentity = ({ d: 'default', f: 'full', i: 'index', n: 'nothing' } as const)[
      rows[0]!.relreplident as 'd' | 'f' | 'i' | 'n'
    ];
    if (identity === undefined || replicaIdentity === 'nothing')
      throw new ConfigurationError(
        `Table ${qualified(schema, table)} has no primary key${replicaIdentity === 'nothing' ? ' or its REPLICA IDENTITY is NOTHING' : ''}, so its changes cannot be keyed: add a primary key, or a unique index on NOT NULL columns with ALTER TABLE ${qualified(schema, table)} REPLICA IDENTITY USING INDEX <index>`,
        { reason: 'no-key', table: qualified(schema, table) },
      );
    described.push({ schema, table, keyColumns: identity.columns, replicaIdentity });
  }
  return described;
}
