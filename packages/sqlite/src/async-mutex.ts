/**
 * A first-come, first-served async lock. better-sqlite3 runs one transaction per connection, so
 * every transaction holds this lock until it ends; otherwise another caller's statements issued
 * during an `await` would silently join the open transaction.
 */
export interface AsyncMutex {
  runExclusive<T>(work: () => Promise<T>): Promise<T>;
}

export function createAsyncMutex(): AsyncMutex {
  let tail: Promise<void> = Promise.resolve();
  return {
    async runExclusive<T>(work: () => Promise<T>): Promise<T> {
      const previous = tail;
      let release!: () => void;
      tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
