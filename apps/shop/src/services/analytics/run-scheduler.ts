/**
 * When the models run: `debounceMs` after the first change not yet covered (a burst becomes one
 * run), never two at once, and again as soon as a run ends if changes arrived during it, so the
 * last change is always covered. Those changes have waited a run already: a debounce then would
 * only add to their lag, and the run in progress has gathered them into one burst anyway. With
 * `spacingMs`, a scheduled run starts no sooner than that after the previous one started: under a
 * steady stream of changes the models then run at most once per `spacingMs` instead of back to
 * back, which gives the CPU back to the services at the cost of that much freshness.
 */
export interface RunScheduler {
  /** Changes arrived: run within `debounceMs` (or after the run in progress). */
  request(): void;
  /** Runs `work` now, after the run in progress; answers its result. */
  runNow<T>(work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export function createRunScheduler(options: {
  debounceMs: number;
  /** The least time from one scheduled run's start to the next one's (default 0). */
  spacingMs?: number;
  run(): Promise<void>;
  onError(error: unknown): void;
}): RunScheduler {
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<unknown> = Promise.resolve();
  let running = false;
  let requestedWhileRunning = false;
  let stopped = false;
  let lastStartAt = Number.NEGATIVE_INFINITY;
  const spacingMs = options.spacingMs ?? 0;
  /** How long until a scheduled run may start: `atLeastMs`, and the spacing from the last start. */
  const delayFor = (atLeastMs: number) => Math.max(atLeastMs, lastStartAt + spacingMs - Date.now());

  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = current.then(async () => {
      running = true;
      try {
        return await work();
      } finally {
        running = false;
        // Changes that arrived during any run, scheduled or asked for, get a run of their own.
        if (requestedWhileRunning) {
          requestedWhileRunning = false;
          if (timer) clearTimeout(timer);
          const delay = delayFor(0);
          if (delay > 0) timer = setTimeout(fire, delay);
          else fire();
        }
      }
    });
    current = result.catch(() => undefined);
    return result;
  }

  function fire(): void {
    timer = null;
    if (stopped) return;
    serialized(() => {
      lastStartAt = Date.now();
      return options.run();
    }).catch(options.onError);
  }

  function request(): void {
    if (stopped) return;
    if (running) {
      requestedWhileRunning = true;
      return;
    }
    // Not pushed back by later changes: a steady stream of them must not starve the models.
    if (timer) return;
    timer = setTimeout(fire, delayFor(options.debounceMs));
  }

  return {
    request,
    runNow: (work) => serialized(work),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
