/**
 * Gathers concurrent requests into batches: the first request flushes at once (no added latency
 * when idle); requests that arrive while a flush runs wait and go together in the next one.
 * Each request gets its own result or error.
 */
export function createGroupCommitter<Request, Result>(
  flush: (batch: Request[]) => Promise<Array<Result | Error>>,
  options: { maxBatch?: number; maxConcurrentFlushes?: number } = {},
): (request: Request) => Promise<Result> {
  const maxBatch = options.maxBatch ?? 256;
  const maxConcurrentFlushes = options.maxConcurrentFlushes ?? 1;
  const queue: Array<{ request: Request; resolve: (r: Result) => void; reject: (e: unknown) => void }> = [];
  let running = 0;

  function drain(): void {
    while (running < maxConcurrentFlushes && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
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
  }

  return (request) =>
    new Promise<Result>((resolve, reject) => {
      queue.push({ request, resolve, reject });
      drain();
    });
}
