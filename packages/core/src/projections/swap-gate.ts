/**
 * Shared/exclusive gate between the transactions that apply live events and the swap to a
 * rebuilt generation: the swap waits until transactions writing the old generation have ended,
 * and transactions that start meanwhile wait for the swap, then write the new one.
 */
export class SwapGate {
  #active = 0;
  #exclusive: Promise<void> | null = null;
  #drained: (() => void) | null = null;

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.#exclusive) await this.#exclusive;
    this.#active++;
    try {
      return await work();
    } finally {
      this.#active--;
      if (this.#active === 0) this.#drained?.();
    }
  }

  /** Resolves once no shared work runs; the function it gives lets shared work start again. */
  async exclusive(): Promise<() => void> {
    while (this.#exclusive) await this.#exclusive;
    let release!: () => void;
    this.#exclusive = new Promise<void>((resolve) => {
      release = resolve;
    });
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    this.#drained = null;
    return () => {
      this.#exclusive = null;
      release();
    };
  }
}
