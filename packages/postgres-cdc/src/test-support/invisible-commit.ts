import { serviceUrl } from '@causeway/testing';
import pg from 'pg';

/** A session whose commits are streamed but stay invisible until `release()` (see below). */
export interface HeldSession {
  readonly client: pg.Client;
  /** Ends the wait: the held commit becomes visible, and its query resolves. */
  release(): Promise<void>;
}

/**
 * PostgreSQL streams a commit once its record is flushed and makes it visible a moment later.
 * A synchronous standby that never answers holds a transaction in that state until its wait is
 * cancelled: only the held session waits for it (synchronous_commit = on), everyone else commits
 * as before (local). The settings are the server's, so a server-wide advisory lock keeps two
 * test files from using them at once.
 */
export async function withCommitHeldInvisible(
  databaseUrl: string,
  body: (held: HeldSession) => Promise<void>,
): Promise<void> {
  const admin = new pg.Client({ connectionString: serviceUrl('postgres') });
  const held = new pg.Client({ connectionString: databaseUrl });
  admin.on('error', () => {});
  held.on('error', () => {});
  await admin.connect();
  await held.connect();
  const standby = 'causeway_test_never_answers';
  try {
    await admin.query("SELECT pg_advisory_lock(hashtext('causeway_test_synchronous_standby'))");
    await admin.query("ALTER SYSTEM SET synchronous_commit = 'local'");
    await admin.query(`ALTER SYSTEM SET synchronous_standby_names = '${standby}'`);
    await admin.query('SELECT pg_reload_conf()');
    for (let attempt = 0; ; attempt += 1) {
      const { rows } = await held.query('SHOW synchronous_standby_names');
      if (rows[0].synchronous_standby_names === standby) break;
      if (attempt > 200) throw new Error('synchronous_standby_names did not reach the held session');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await held.query('SET synchronous_commit = on');
    const pid = (await held.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await untilCommitsWait(admin, held, pid);
    await body({
      client: held,
      release: async () => {
        await admin.query('SELECT pg_cancel_backend($1)', [pid]);
      },
    });
  } finally {
    await admin.query('ALTER SYSTEM RESET synchronous_standby_names');
    await admin.query('ALTER SYSTEM RESET synchronous_commit');
    await admin.query('SELECT pg_reload_conf()');
    await admin.query("SELECT pg_advisory_unlock(hashtext('causeway_test_synchronous_standby'))");
    await admin.end().catch(() => {});
    await held.end().catch(() => {});
  }
}

/**
 * A commit waits for the standby only once the checkpointer, too, has read the new setting
 * (it keeps the server's "a synchronous standby is named" flag): on a loaded machine that can be
 * after the held session sees it. A probe commit is held (seen waiting on SyncRep, then
 * cancelled) before the test's own transaction runs.
 */
async function untilCommitsWait(admin: pg.Client, held: pg.Client, pid: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    let committed = false;
    // A commit waits only when its transaction wrote WAL: a temporary table's catalog rows do.
    const probe = held.query('CREATE TEMP TABLE causeway_sync_probe (n int) ON COMMIT DROP').then(() => {
      committed = true;
    });
    for (let look = 0; look < 20 && !committed; look += 1) {
      const { rows } = await admin.query(
        "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep'",
        [pid],
      );
      if (rows.length > 0) {
        await admin.query('SELECT pg_cancel_backend($1)', [pid]);
        await probe;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await probe;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('commits of the held session never waited for the synchronous standby');
}
