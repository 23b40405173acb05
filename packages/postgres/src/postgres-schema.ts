import type pg from 'pg';
import { appendFunctionSql } from './postgres-append-function.ts';
import { claimFunctionSql } from './postgres-claim-function.ts';

/** Names derived from the configured schema; several services can share one database. */
export interface PostgresSchema {
  /** Quoted schema name for SQL, e.g. `"causeway"`. */
  readonly sql: string;
  /** LISTEN/NOTIFY channel of this schema. */
  readonly channel: string;
}

export function describeSchema(schema: string): PostgresSchema {
  return { sql: `"${schema}"`, channel: `${schema}_changes` };
}

function tablesSql(s: string): string {
  return `
-- CACHE 1 matters: the global reader's gap proof needs positions handed out in time order.
CREATE SEQUENCE ${s}.events_global_position_seq AS bigint CACHE 1;
CREATE TABLE ${s}.streams (stream_id text PRIMARY KEY, version bigint NOT NULL);
CREATE TABLE ${s}.events (
  global_position bigint PRIMARY KEY DEFAULT nextval('${s}.events_global_position_seq'),
  stream_id text NOT NULL,
  stream_position bigint NOT NULL,
  event_id text NOT NULL UNIQUE,
  type text NOT NULL,
  schema_version int NOT NULL,
  correlation_id text,
  causation_id text,
  occurred_at timestamptz NOT NULL,
  metadata jsonb NOT NULL,
  data jsonb NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_position)
);
ALTER SEQUENCE ${s}.events_global_position_seq OWNED BY ${s}.events.global_position;
CREATE TABLE ${s}.outbox (
  sequence bigserial PRIMARY KEY,
  message_id text NOT NULL UNIQUE,
  destination text NOT NULL,
  ordering_key text NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  lease_owner text,
  lease_until timestamptz,
  attempts int NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished ON ${s}.outbox (sequence) WHERE published_at IS NULL;
CREATE INDEX outbox_unpublished_by_key ON ${s}.outbox (ordering_key, sequence) WHERE published_at IS NULL;
CREATE TABLE ${s}.inbox (
  consumer text NOT NULL,
  message_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);
CREATE INDEX inbox_received_at ON ${s}.inbox (received_at);
CREATE TABLE ${s}.checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  generation int NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ${s}.snapshots (
  stream_id text PRIMARY KEY,
  aggregate_type text NOT NULL,
  stream_version bigint NOT NULL,
  snapshot_version int NOT NULL,
  subject_id text,
  state jsonb NOT NULL,
  taken_at timestamptz NOT NULL
);
CREATE INDEX snapshots_subject ON ${s}.snapshots (subject_id) WHERE subject_id IS NOT NULL;
CREATE TABLE ${s}.subject_keys (
  subject_id text PRIMARY KEY,
  key bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  destroyed_at timestamptz
);
CREATE TABLE ${s}.documents (
  collection text NOT NULL,
  id text COLLATE "C" NOT NULL,
  document jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, id)
);`;
}

function deadLettersSql(s: string): string {
  return `
CREATE TABLE ${s}.dead_letters (
  sequence bigserial PRIMARY KEY,
  consumer text NOT NULL,
  message_id text NOT NULL,
  ordering_key text NOT NULL,
  message jsonb NOT NULL,
  reason text NOT NULL,
  attempts int NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL,
  UNIQUE (consumer, message_id)
);
CREATE INDEX dead_letters_open_by_key ON ${s}.dead_letters (consumer, ordering_key, sequence)
  WHERE status IN ('dead', 'parked');`;
}

function sagasSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.saga_instances (
  saga_id text PRIMARY KEY,
  saga_name text NOT NULL,
  status text NOT NULL,
  version bigint NOT NULL,
  wake_at timestamptz NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  body jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS saga_instances_due ON ${s}.saga_instances (wake_at)
  WHERE status IN ('running', 'compensating') AND wake_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS saga_instances_by_name_status ON ${s}.saga_instances (saga_name, status);`;
}

/** Ordered migrations; each runs once per schema, in its own version row. Append, never edit. */
export function migrations(schema: PostgresSchema): Array<{ version: number; sql: string }> {
  return [
    { version: 1, sql: tablesSql(schema.sql) },
    // Function migrations are CREATE OR REPLACE of the current body, so a fresh schema may run
    // the latest one several times. 3: append_many without pg_notify, ids checked by the unique
    // index. 4: no streams table; the version check is the (stream_id, stream_position) index.
    { version: 2, sql: appendFunctionSql(schema) },
    { version: 3, sql: appendFunctionSql(schema) },
    { version: 4, sql: `${appendFunctionSql(schema)}\nDROP TABLE IF EXISTS ${schema.sql}.streams;` },
    { version: 5, sql: deadLettersSql(schema.sql) },
    { version: 6, sql: sagasSql(schema.sql) },
    { version: 7, sql: claimFunctionSql(schema) },
    {
      version: 8,
      sql: `CREATE INDEX IF NOT EXISTS events_by_correlation ON ${schema.sql}.events (correlation_id, global_position)
              WHERE correlation_id IS NOT NULL;`,
    },
    // 9: the claim judges every lease against one instant (see postgres-claim-function.ts).
    { version: 9, sql: claimFunctionSql(schema) },
    // 10: append_many(requests, handoff_owner, handoff_lease_ms) leases outbox rows to the relay's
    // handoff. The one-argument version stays for processes of the previous release.
    { version: 10, sql: appendFunctionSql(schema) },
  ];
}

/**
 * Brings the schema up to date. Idempotent; a transaction-scoped advisory lock keyed by the
 * schema name serializes processes that open the same schema at once.
 */
export async function migrateSchema(client: pg.ClientBase, schema: PostgresSchema): Promise<void> {
  const s = schema.sql;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`causeway.migrate.${s}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
    const done = new Set(applied.rows.map((row) => row.version));
    for (const migration of migrations(schema)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [migration.version]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
