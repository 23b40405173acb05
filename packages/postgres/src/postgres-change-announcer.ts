import type { PostgresQueryable } from './postgres-connection.ts';
import { prepared } from './postgres-prepared.ts';

/** Tells other processes (LISTEN on the schema's channel) that events or outbox rows were committed. */
export interface PostgresChangeAnnouncer {
  /** Called after a local commit; cheap and never throws. */
  announce(): void;
  /** Sends an announcement still owed, waits for the one in flight; later ones are dropped. */
  close(): Promise<void>;
}

/**
 * Between two NOTIFYs of a busy store. A commit after an idle spell is announced at once; under
 * load, other processes hear of new commits at most this much later, and the NOTIFYs (each a
 * transaction and a round trip) stay off the appends' back.
 */
const minIntervalMs = 5;

/**
 * Sends NOTIFY from outside the writing transactions: PostgreSQL serializes the commits of
 * notifying transactions (a global lock from pre-commit to the end of commit), so a NOTIFY inside
 * each append would defeat group flush of the WAL across concurrent appends. Announcements are
 * coalesced: at most one NOTIFY in flight, and any number of commits during it (or during the
 * pause after it) cause exactly one more. The NOTIFY commits asynchronously (no WAL flush wait):
 * a notification lost in a crash costs listeners nothing they do not already handle (they wake
 * on reconnect and poll when idle).
 */
export function createPostgresChangeAnnouncer(
  database: PostgresQueryable,
  channel: string,
  /** The payload of each NOTIFY: the announcing store, so that its own listener can ignore it. */
  storeId: string,
): PostgresChangeAnnouncer {
  // One autocommit statement; set_config(..., true) lasts until its own commit.
  const notifySql = prepared(`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`);
  let busy = false;
  let owed = false;
  let closed = false;
  let inFlight: Promise<void> = Promise.resolve();
  let pause: NodeJS.Timeout | null = null;

  const send = () => {
    busy = true;
    owed = false;
    inFlight = database.execute(notifySql, [channel, storeId]).then(
      () => rest(),
      // Best effort, as above.
      () => rest(),
    );
  };

  const rest = () => {
    if (closed) {
      busy = false;
      return;
    }
    pause = setTimeout(() => {
      pause = null;
      if (owed && !closed) send();
      else busy = false;
    }, minIntervalMs);
    pause.unref();
  };

  return {
    announce() {
      if (closed) return;
      if (busy) owed = true;
      else send();
    },
    async close() {
      closed = true;
      if (pause) {
        clearTimeout(pause);
        pause = null;
        busy = false;
      }
      await inFlight;
      if (owed && !busy) {
        owed = false;
        await database.execute(notifySql, [channel, storeId]).catch(() => {});
      }
    },
  };
}
