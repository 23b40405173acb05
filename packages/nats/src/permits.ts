/** A counting semaphore: at most `limit` holders at once, served in arrival order. */
export interface Permits {
  acquire(): Promise<() => void>;
}

export function createPermits(limit: number): Permits {
  let available = limit;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else available += 1;
  };
  return {
    acquire() {
      if (available > 0) {
        available -= 1;
        return Promise.resolve(once(release));
      }
      return new Promise((resolve) => waiting.push(() => resolve(once(release))));
    },
  };
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
