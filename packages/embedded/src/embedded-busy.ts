const pause = new Int32Array(new SharedArrayBuffer(4));

function isBusy(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  return code.startsWith('SQLITE_BUSY');
}

/**
 * Wraps a write so that SQLITE_BUSY (another process holds the write lock) is retried every 0.2 ms
 * until `busyTimeoutMs`. The connection's busy_timeout is 0 because SQLite's own busy handler backs
 * off to sleeps of 10–100 ms, which would turn a 1 ms lock wait into delivery latency. A retried
 * transaction has rolled back whole, and the wrapped functions touch nothing but the database.
 */
export function retryWhileBusy<Args extends unknown[], Result>(
  work: (...args: Args) => Result,
  busyTimeoutMs: number,
): (...args: Args) => Result {
  return (...args) => {
    const deadline = Date.now() + busyTimeoutMs;
    for (;;) {
      try {
        return work(...args);
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
        // A synchronous pause, as SQLite's own handler would do: the caller holds no lock.
        Atomics.wait(pause, 0, 0, 0.2);
      }
    }
  };
}
