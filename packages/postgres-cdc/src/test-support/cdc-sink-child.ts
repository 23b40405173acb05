/**
 * The CDC crash test's child: a change source whose sink is a table in PostgreSQL, written in one
 * transaction per delivered transaction together with the ids of the changes applied (the inbox).
 * With `killAfterCommits` it SIGKILLs itself right after that many sink commits of streamed
 * transactions: after the sink committed and before the slot was acknowledged, the worst moment.
 * Prints `streaming` once the snapshot is done and `kill after-sink-commit` before a self-kill.
 */
import pg from 'pg';
import { createPostgresChangeSource } from '../postgres-change-source.ts';

interface ChildConfig {
  url: string;
  slot: string;
  publication: string;
  tables: string[];
  killAfterCommits: number | null;
}

const config = JSON.parse(process.argv[2]!) as ChildConfig;
const sink = new pg.Client({ connectionString: config.url });
await sink.connect();
let streamedCommits = 0;
/** Where the handler is, for the test to print if the sink stops catching up. */
let at: { lsn: string; step: string; change: number; of: number; since: number } | null = null;
let handlers = 0;
setInterval(() => {
  if (at && Date.now() - at.since > 5_000)
    process.stderr.write(
      `cdc child: handler of ${at.lsn} at ${at.step} (change ${at.change} of ${at.of}) for ${Date.now() - at.since} ms; ${handlers} handlers running\n`,
    );
}, 5_000).unref();

const source = createPostgresChangeSource({
  connectionString: config.url,
  slot: config.slot,
  publication: config.publication,
  tables: config.tables,
  snapshotChunkSize: 200,
  reconnectDelayMs: 100,
  slotBusyTimeoutMs: 20_000,
  onError: (error) => process.stderr.write(`cdc child: ${String(error)}\n`),
});

await source.start(async (transaction) => {
  handlers += 1;
  const step = (name: string, change = 0) => {
    at = { lsn: transaction.lsn, step: name, change, of: transaction.changes.length, since: Date.now() };
  };
  step('BEGIN');
  await sink.query('BEGIN');
  try {
    for (const [index, change] of transaction.changes.entries()) {
      step('applied', index);
      const fresh = await sink.query(
        'INSERT INTO sink.applied (change_id) VALUES ($1) ON CONFLICT DO NOTHING',
        [change.id],
      );
      if (fresh.rowCount === 0) continue;
      const key = JSON.stringify(change.key);
      const table = `${change.source.schema}.${change.source.table}`;
      step('rows', index);
      if (change.op === 'd')
        await sink.query('DELETE FROM sink.rows WHERE tbl = $1 AND key = $2', [table, key]);
      else if (change.op === 't') await sink.query('DELETE FROM sink.rows WHERE tbl = $1', [table]);
      else
        await sink.query(
          `INSERT INTO sink.rows (tbl, key, row) VALUES ($1, $2, $3)
           ON CONFLICT (tbl, key) DO UPDATE SET row = sink.rows.row || EXCLUDED.row`,
          [table, key, JSON.stringify(change.after)],
        );
      step('history', index);
      await sink.query(
        'INSERT INTO sink.history (tbl, key, lsn, index, change_id) VALUES ($1, $2, $3, $4, $5)',
        [table, key, transaction.lsn, index, change.id],
      );
    }
    step('COMMIT');
    await sink.query('COMMIT');
    at = null;
  } catch (error) {
    await sink.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    handlers -= 1;
  }
  if (transaction.snapshot) return;
  streamedCommits += 1;
  if (config.killAfterCommits !== null && streamedCommits >= config.killAfterCommits) {
    process.stdout.write('kill after-sink-commit\n');
    process.kill(process.pid, 'SIGKILL');
  }
});
process.stdout.write('streaming\n');
