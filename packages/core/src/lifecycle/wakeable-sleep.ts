/**
 * Sleeps that a change notification can cut short: a polling loop waits `sleep(ms)` when idle,
 * and `wake()` (e.g. from Store.subscribeToChanges) ends every pending sleep at once. A wake that
 * finds no sleeper is remembered and ends the next sleep at once: the loop was busy when the
 * change came and may have looked before it committed (otherwise it would wait a whole poll).
 */
export function createWakeableSleep() {
  const sleepers = new Set<() => void>();
  let missedWake = false;
  return {
    sleep(ms: number): Promise<void> {
      if (missedWake) {
        missedWake = false;
        return Promise.resolve();
      }
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
      if (sleepers.size === 0) missedWake = true;
      for (const sleeper of [...sleepers]) sleeper();
    },
  };
}
