import type Database from 'better-sqlite3';
import { retryWhileBusy } from './embedded-busy.ts';

/**
 * Puts the transport file in WAL mode. WAL is a property of the file: after its first opener, the
 * mode is only read (a shared lock, which waits on busy_timeout). Converting a new file needs
 * exclusive access, for which SQLite never runs the busy handler, so processes opening one file at
 * once retry the conversion here, within `busyTimeoutMs`, until one of them made it.
 */
export function enableWal(db: Database.Database, busyTimeoutMs: number): void {
  const mode = () => String(db.pragma('journal_mode', { simple: true })).toLowerCase();
  if (mode() === 'wal') return;
  retryWhileBusy(() => {
    // Lets retention give freed pages back to the file system (incremental_vacuum). It takes
    // effect only on a new, empty file, so it must come before WAL writes the header.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
  }, busyTimeoutMs)();
}
