/**
 * Sleeps that a change notification can cut short: a polling loop waits `sleep(ms)` when idle,
 * and `wake()` (e.g. from Store.subscribeToChanges) ends every pending sleep at once.
 */
export function createWakeableSleep() {
  const sleepers = new Set<() => void>();
  return {
    sleep(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          sleepers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        sleepers.add(done);
      });
    },
    wake(): void {
      for (const sleeper of [...sleepers]) sleeper();
    },
  };
}
