import type { AppendRequest, AppendResult } from '@causeway/core';

type AppendMany = (requests: readonly AppendRequest[]) => Promise<Array<AppendResult | Error>>;

interface Waiting {
  readonly requests: readonly AppendRequest[];
  resolve(results: Array<AppendResult | Error>): void;
  reject(error: unknown): void;
}

/**
 * Merges the `appendMany` calls made during one turn of the event loop into one statement, with
 * at most `maxInFlight` statements running. Sending on the next turn (setImmediate) instead of at
 * once lets every appender whose previous append just resolved queue its next one first, so
 * batches stay full under load instead of alternating between one request and all the others.
 * Each call still gets exactly its own results, in order.
 */
export function createPostgresAppendBatcher(
  send: AppendMany,
  options: { maxInFlight: number; maxRequests: number },
): AppendMany {
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  const schedule = () => {
    if (scheduled || waiting.length === 0 || inFlight >= options.maxInFlight) return;
    scheduled = true;
    // Nothing in flight: nobody to wait for, send now (no added latency when idle).
    if (inFlight === 0) queueMicrotask(flush);
    else setImmediate(flush);
  };

  function flush(): void {
    scheduled = false;
    if (inFlight >= options.maxInFlight) return;
    // Whole calls only, up to maxRequests (a single larger call goes alone).
    let count = 0;
    let taken = 0;
    while (
      taken < waiting.length &&
      (taken === 0 || count + waiting[taken]!.requests.length <= options.maxRequests)
    ) {
      count += waiting[taken]!.requests.length;
      taken++;
    }
    const group = waiting.slice(0, taken);
    waiting = waiting.slice(taken);
    inFlight++;
    send(group.flatMap((call) => call.requests))
      .then(
        (results) => {
          let offset = 0;
          for (const call of group) {
            call.resolve(results.slice(offset, offset + call.requests.length));
            offset += call.requests.length;
          }
        },
        (error: unknown) => {
          for (const call of group) call.reject(error);
        },
      )
      .finally(() => {
        inFlight--;
        schedule();
      });
    schedule();
  }

  return (requests) => {
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      waiting.push({ requests, resolve, reject });
      schedule();
    });
  };
}
