/** At most `max` tasks hold a slot at once; waiters get slots first come, first served. */
export interface ConcurrencyLimit {
  /** Resolves with a release function, or with undefined if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<(() => void) | undefined>;
}

export function createConcurrencyLimit(max: number): ConcurrencyLimit {
  let held = 0;
  const waiters: Array<() => void> = [];

  function release(): void {
    held--;
    waiters.shift()?.();
  }

  return {
    async acquire(signal) {
      while (held >= max) {
        if (signal.aborted) return undefined;
        await new Promise<void>((resolve) => {
          const wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const index = waiters.indexOf(wake);
            if (index >= 0) waiters.splice(index, 1);
            resolve();
          };
          waiters.push(wake);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      }
      if (signal.aborted) return undefined;
      held++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
  };
}
