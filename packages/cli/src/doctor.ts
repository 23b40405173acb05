/**
 * `causeway doctor`: checks a service's database and says, per check, what is wrong and how to fix
 * it. `fail` makes the command exit 1; `warn` is worth reading but keeps working.
 */
import type { RetentionPolicy, Store } from '@causeway/core';
import type { SchemaVersions } from './open-database.ts';
import type { Listing } from './output.ts';

export interface Check {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  /** What to do, when it is not ok. */
  fix?: string;
}

const gib = 1024 ** 3;
/** A retention pass runs every so often: a row this much past its policy means none ran lately. */
const retentionGraceMs = 3600_000;

export interface DoctorOptions {
  outboxAgeLimitSeconds: number;
  /** The versions found before opening (a mismatch refused to open, so here they agree). */
  schema: SchemaVersions;
  /** The service's retention policy; rows kept well past it say no retention pass runs. */
  retention: RetentionPolicy;
  /** PostgreSQL: the schema Causeway's tables are in, for the per-table checks. */
  postgresSchema?: string;
}

/** The tables every message updates or deletes from: without vacuum, their dead rows pile up. */
const churningTables = ['outbox', 'inbox', 'saga_instances'];

const hours = (ms: number) => `${(ms / 3600_000).toFixed(1)} h`;

export async function runDoctor(store: Store, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const query = <Row>(sql: string, params?: readonly unknown[]) =>
    store.transaction((tx) => tx.query<Row>(sql, params));
  checks.push({
    check: 'schema',
    status: 'ok',
    detail: `version ${options.schema.database}, the one this causeway knows`,
  });

  if (store.capabilities.dialect === 'postgres') {
    const [settings] = await query<{
      wal_level: string;
      max_connections: string;
      in_use: string;
      skew_ms: string;
    }>(
      `SELECT current_setting('wal_level') AS wal_level, current_setting('max_connections') AS max_connections,
              (SELECT count(*) FROM pg_stat_activity) AS in_use,
              (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS skew_ms`,
    );
    const skewMs = Math.abs(Number(settings!.skew_ms) - Date.now());
    checks.push(await autovacuumCheck(query, options.postgresSchema ?? 'causeway'));
    checks.push(
      settings!.wal_level === 'logical'
        ? { check: 'wal_level', status: 'ok', detail: 'logical' }
        : {
            check: 'wal_level',
            status: 'warn',
            detail: `${settings!.wal_level}: change data capture and the WAL outbox relay cannot run`,
            fix: 'ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL',
          },
    );
    const used = Number(settings!.in_use) / Number(settings!.max_connections);
    checks.push({
      check: 'connections',
      status: used > 0.8 ? 'warn' : 'ok',
      detail: `${settings!.in_use} of max_connections ${settings!.max_connections} in use`,
      ...(used > 0.8
        ? { fix: 'raise max_connections (and restart), or give each process a smaller pool (poolSize)' }
        : {}),
    });
    checks.push({
      check: 'clock',
      status: skewMs > 2_000 ? 'warn' : 'ok',
      detail: `this machine and the database differ by ${skewMs} ms (the round trip included)`,
      ...(skewMs > 2_000 ? { fix: 'run NTP (chrony, systemd-timesyncd) on both machines' } : {}),
    });
    const slots = await query<{ slot: string; active: boolean; held: string | null }>(
      `SELECT slot_name AS slot, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) AS held
         FROM pg_replication_slots WHERE database = current_database()`,
    );
    for (const slot of slots) {
      const held = Number(slot.held ?? 0);
      const idle = !slot.active && held > gib;
      checks.push({
        check: `slot ${slot.slot}`,
        status: idle ? 'fail' : 'ok',
        detail: `${slot.active ? 'read' : 'not read'} now, holds ${(held / 1024 ** 2).toFixed(1)} MiB of WAL`,
        ...(idle
          ? {
              fix: `start its reader, or drop it if nothing will read it again: SELECT pg_drop_replication_slot('${slot.slot}')`,
            }
          : {}),
      });
    }
  } else {
    const [mode] = await query<{ journal_mode: string }>('PRAGMA journal_mode');
    checks.push(
      mode?.journal_mode === 'wal'
        ? { check: 'journal_mode', status: 'ok', detail: 'wal' }
        : {
            check: 'journal_mode',
            status: 'fail',
            detail: `${mode?.journal_mode}: readers and the writer block each other`,
            fix: 'open the file with createSqliteStore, which sets WAL mode',
          },
    );
  }

  const backlog = await store.outbox.backlog();
  const ageSeconds = backlog.oldestAgeMs / 1000;
  checks.push({
    check: 'outbox',
    status: ageSeconds > options.outboxAgeLimitSeconds ? 'fail' : 'ok',
    detail: `${backlog.count} unpublished, the oldest ${ageSeconds.toFixed(1)} s old`,
    ...(ageSeconds > options.outboxAgeLimitSeconds
      ? { fix: "no relay publishes: start the service (its relay), and read its log for the relay's errors" }
      : {}),
  });

  const waiting = await store.deadLetters.list({ status: 'dead', limit: 1000 });
  checks.push({
    check: 'dead letters',
    status: waiting.length > 0 ? 'warn' : 'ok',
    detail: `${waiting.length} dead`,
    ...(waiting.length > 0
      ? { fix: 'causeway dlq list: read the reasons, fix the cause, then redrive from the service' }
      : {}),
  });

  const [published, receipts] = await Promise.all([
    store.outbox.countPublished(),
    store.inbox.countReceipts(),
  ]);
  const stale = [
    { what: 'published outbox rows', kept: published, policyMs: options.retention.publishedOutboxMs },
    { what: 'inbox receipts', kept: receipts, policyMs: options.retention.inboxMs },
  ].filter(({ kept, policyMs }) => kept.count > 0 && kept.oldestAgeMs > policyMs + retentionGraceMs);
  checks.push({
    check: 'retention',
    status: stale.length > 0 ? 'warn' : 'ok',
    detail:
      stale.length > 0
        ? stale
            .map(
              ({ what, kept, policyMs }) =>
                `${what}: the oldest is ${hours(kept.oldestAgeMs)} old, kept ${hours(policyMs)}`,
            )
            .join('; ')
        : `${published.count} published outbox rows and ${receipts.count} inbox receipts kept, none past the policy`,
    ...(stale.length > 0
      ? {
          fix: 'no retention pass runs: start createRetentionSchedule({ store, policy }) in the service (or pass its policy: --retention-outbox-hours, --retention-inbox-days)',
        }
      : {}),
  });

  const overdue = await store.sagas.due(new Date(Date.now() - 30_000), 1000);
  checks.push({
    check: 'sagas',
    status: overdue.length > 0 ? 'fail' : 'ok',
    detail: `${overdue.length} past a deadline by over 30 s`,
    ...(overdue.length > 0
      ? { fix: 'the orchestrating service is not running or fails on every attempt: start it, read its log' }
      : {}),
  });
  return checks;
}

/**
 * Every message marks an outbox row published, and every saga step updates its instance: each
 * leaves a dead row version. Without autovacuum they pile up and every statement on those tables
 * slows as history grows: the shop's PostgreSQL soak with autovacuum off went from 931 to 374
 * orders a minute in 15 minutes, and held its rate with it on (docs/design/performance.md).
 */
async function autovacuumCheck(
  query: <Row>(sql: string, params?: readonly unknown[]) => Promise<Row[]>,
  schema: string,
): Promise<Check> {
  const [row] = await query<{
    server: string;
    off_tables: string | null;
    dead: string | null;
    live: string | null;
  }>(
    `SELECT current_setting('autovacuum') AS server,
            string_agg(c.relname, ', ' ORDER BY c.relname)
              FILTER (WHERE 'autovacuum_enabled=false' = ANY (coalesce(c.reloptions, '{}'))) AS off_tables,
            sum(t.n_dead_tup) AS dead, sum(t.n_live_tup) AS live
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_stat_user_tables t ON t.relid = c.oid
      WHERE n.nspname = $1 AND c.relname = ANY ($2)`,
    [schema, churningTables],
  );
  const rows = `${Number(row!.dead ?? 0)} dead and ${Number(row!.live ?? 0)} live rows in ${churningTables.join(', ')}`;
  if (row!.server !== 'on') {
    return {
      check: 'autovacuum',
      status: 'warn',
      detail: `off on this server: ${rows}; statements on them slow down as history grows`,
      fix: 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();',
    };
  }
  if (row!.off_tables) {
    return {
      check: 'autovacuum',
      status: 'warn',
      detail: `off for ${schema}.{${row!.off_tables}}: ${rows}`,
      fix: `ALTER TABLE ${schema}.<table> RESET (autovacuum_enabled) for each of ${row!.off_tables}`,
    };
  }
  return { check: 'autovacuum', status: 'ok', detail: `on: ${rows}` };
}

export function checksListing(checks: readonly Check[]): Listing {
  const failed = checks.filter((check) => check.status === 'fail').length;
  const warned = checks.filter((check) => check.status === 'warn').length;
  return {
    columns: ['check', 'status', 'detail', 'fix'],
    rows: checks.map((check) => ({ ...check })),
    footer: failed + warned === 0 ? 'All checks passed.' : `${failed} failed, ${warned} to look at.`,
  };
}
