export interface GroupCommitterOptions<Request> {
  /** The most requests one flush takes (default 256). */
  readonly maxBatch?: number;
  /** How many flushes may run at once (default 1). */
  readonly maxConcurrentFlushes?: number;
  /**
   * Under load, start a flush on the next turn of the event loop instead of at once, so that every
   * caller whose previous request just resolved can queue its next one first: batches stay full
   * instead of alternating between one request and all the others. "Under load" means a flush is
   * running, or the last one had company; otherwise the flush waits only for the current
   * synchronous run, so a lone caller is not delayed and a burst of calls made together goes together.
   */
  readonly gatherPerTurn?: boolean;
  /**
   * Runs in the caller's context before its request is queued; what it throws fails that request
   * alone. For a check that only the caller's context can make (a flush runs in another's).
   */
  readonly admit?: (request: Request) => void;
}

/**
 * Gathers concurrent requests into batches: the first request flushes at once (no added latency
 * when idle); requests that arrive while a flush runs wait and go together in the next one.
 * Each request gets its own result or error.
 */
export function createGroupCommitter<Request, Result>(
  flush: (batch: Request[]) => Promise<Array<Result | Error>>,
  options: GroupCommitterOptions<Request> = {},
): (request: Request) => Promise<Result> {
  const maxBatch = options.maxBatch ?? 256;
  const maxConcurrentFlushes = options.maxConcurrentFlushes ?? 1;
  const queue: Array<{ request: Request; resolve: (r: Result) => void; reject: (e: unknown) => void }> = [];
  let running = 0;
  let lastBatchSize = 1;
  let turnScheduled = false;

  function startFlush(): void {
    const batch = queue.splice(0, maxBatch);
    lastBatchSize = batch.length;
    running++;
    flush(batch.map((entry) => entry.request))
      .then(
        (results) =>
          batch.forEach((entry, index) => {
            const result = results[index];
            if (result instanceof Error) entry.reject(result);
            else entry.resolve(result as Result);
          }),
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      )
      .finally(() => {
        running--;
        drain();
      });
  }

  function flushWhileRoom(): void {
    turnScheduled = false;
    while (running < maxConcurrentFlushes && queue.length > 0) startFlush();
  }

  function drain(): void {
    if (!options.gatherPerTurn) {
      flushWhileRoom();
      return;
    }
    if (turnScheduled || running >= maxConcurrentFlushes || queue.length === 0) return;
    turnScheduled = true;
    // Idle: after the current synchronous run only (a burst of calls made together goes together).
    if (running === 0 && lastBatchSize === 1) queueMicrotask(flushWhileRoom);
    else setImmediate(flushWhileRoom);
  }

  return (request) =>
    new Promise<Result>((resolve, reject) => {
      options.admit?.(request);
      queue.push({ request, resolve, reject });
      drain();
    });
}
