import type Database from 'better-sqlite3';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Puts the database file in WAL mode. WAL is a property of the file: after its first opener, the
 * mode is only read (a shared lock, which waits on busy_timeout). Converting a new file needs
 * exclusive access, for which SQLite never runs the busy handler, so processes opening one file at
 * once retry the conversion here, every millisecond within `busyTimeoutMs`, until one made it.
 * (An in-memory database stays in its own journal mode: SQLite ignores WAL there.)
 */
export function enableWal(db: Database.Database, busyTimeoutMs: number): void {
  const mode = () => String(db.pragma('journal_mode', { simple: true })).toLowerCase();
  if (mode() === 'wal') return;
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      break;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      // Synchronous, as SQLite's own busy handler sleeps: opening holds no lock to release.
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
