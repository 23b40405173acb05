/**
 * Wakes change listeners: directly after local commits that wrote events or outbox rows, and,
 * for other processes sharing the file, when `PRAGMA data_version` moves. It only polls while
 * somebody listens, and its timer never keeps the process alive.
 */
export interface SqliteChangeFeed {
  subscribe(listener: () => void): () => void;
  notify(): void;
  close(): void;
}

export function createSqliteChangeFeed(options: {
  /** Reads the writer connection's data_version, which moves only on other connections' commits. */
  readDataVersion: (() => number) | null;
  pollMs: number;
}): SqliteChangeFeed {
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let lastVersion = 0;

  function notify(): void {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        process.emitWarning(`A store change listener threw: ${String(error)}`);
      }
    }
  }

  function poll(): void {
    const version = options.readDataVersion?.();
    if (version !== undefined && version !== lastVersion) {
      lastVersion = version;
      notify();
    }
  }

  function startPolling(): void {
    const read = options.readDataVersion;
    if (read === null || timer !== undefined) return;
    lastVersion = read();
    timer = setInterval(() => {
      try {
        poll();
      } catch {
        // The connection is closing; close() clears the timer right after.
      }
    }, options.pollMs);
    timer.unref();
  }

  function stopPolling(): void {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      startPolling();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stopPolling();
      };
    },
    notify,
    close() {
      listeners.clear();
      stopPolling();
    },
  };
}
