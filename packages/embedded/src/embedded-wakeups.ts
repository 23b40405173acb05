import { closeSync, type FSWatcher, openSync, watch, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';

/** Listeners in this process per transport file: a publish wakes them at once, without polling. */
const localListeners = new Map<string, Set<() => void>>();

export interface EmbeddedWakeups {
  /** Calls `listener` after local writes to the file and when another process committed. */
  subscribe(listener: () => void): () => void;
  /**
   * After a commit others should see at once (a publish, a lease release): wakes every listener of
   * this file in this process, and those of other processes through the wake file.
   */
  announce(): void;
  close(): void;
}

export interface EmbeddedWakeupOptions {
  filename: string;
  db: Database.Database;
  /** Polling interval while the file changes; default 20 ms. */
  pollIntervalMs: number;
  /** Polling interval once nothing changed for `idleAfterMs`; default 100 ms. */
  idlePollIntervalMs: number;
  idleAfterMs: number;
}

/**
 * Wake-ups for subscribers: in this process directly, across processes by `PRAGMA data_version`
 * (it moves when another connection commits to the file). It is checked as soon as the file system
 * reports a write to the wake file beside the database (inotify, through fs.watch on the directory),
 * and besides by polling, fast while the file changes and slower once it has been idle, in case
 * such reports are missing (some file systems have none). Only while somebody listens.
 *
 * Why a wake file and not the WAL's own writes: SQLite writes a commit's frames to the WAL before
 * it syncs them and publishes the commit in the shared-memory index, so a reader woken by that
 * write checked `data_version` too early, saw nothing, and waited for the next poll (~18 ms a hop,
 * measured). The wake file is written after the commit returned.
 */
export function createEmbeddedWakeups(options: EmbeddedWakeupOptions): EmbeddedWakeups {
  const path = resolve(options.filename);
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let lastVersion = 0;
  let lastChangeAt = 0;
  let watcher: FSWatcher | undefined;
  const wakePath = `${path}-wake`;
  const wakeName = basename(wakePath);
  let wakeFile: number | undefined;
  const wakeByte = Buffer.from([1]);

  function notify(): void {
    for (const listener of [...listeners]) listener();
  }

  /** Notifies if another connection committed since the last look; true if so. */
  function checkVersion(now: number): boolean {
    const version = options.db.pragma('data_version', { simple: true }) as number;
    if (version === lastVersion) return false;
    lastVersion = version;
    lastChangeAt = now;
    notify();
    return true;
  }

  function watchWrites(): void {
    try {
      watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || String(name) !== wakeName || listeners.size === 0) return;
        try {
          checkVersion(Date.now());
        } catch {
          // The connection is closing.
        }
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // No file-system events here: polling alone.
    }
  }

  function poll(): void {
    timer = undefined;
    if (listeners.size === 0) return;
    const now = Date.now();
    try {
      checkVersion(now);
    } catch {
      // The connection is closing; close() stops polling right after.
      return;
    }
    const idle = now - lastChangeAt > options.idleAfterMs;
    timer = setTimeout(poll, idle ? options.idlePollIntervalMs : options.pollIntervalMs);
  }

  function notifyLocal(): void {
    for (const wake of [...(localListeners.get(path) ?? [])]) wake();
  }

  /** One byte rewritten in place: a modify event for every watcher, and the file never grows. */
  function signalOtherProcesses(): void {
    try {
      wakeFile ??= openSync(wakePath, 'w');
      writeSync(wakeFile, wakeByte, 0, 1, 0);
    } catch {
      // No wake file (read-only directory): other processes still find the commit by polling.
    }
  }

  function joinLocal(): void {
    const set = localListeners.get(path) ?? new Set();
    set.add(notify);
    localListeners.set(path, set);
  }

  function leaveLocal(): void {
    const set = localListeners.get(path);
    set?.delete(notify);
    if (set?.size === 0) localListeners.delete(path);
  }

  function stop(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    watcher?.close();
    watcher = undefined;
    leaveLocal();
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        joinLocal();
        lastVersion = options.db.pragma('data_version', { simple: true }) as number;
        lastChangeAt = Date.now();
        timer = setTimeout(poll, options.pollIntervalMs);
        watchWrites();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    announce() {
      notifyLocal();
      signalOtherProcesses();
    },
    close() {
      listeners.clear();
      stop();
      if (wakeFile !== undefined) closeSync(wakeFile);
      wakeFile = undefined;
    },
  };
}
