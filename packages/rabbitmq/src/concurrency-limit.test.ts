import { describe, expect, it } from 'vitest';
import { createConcurrencyLimit } from './concurrency-limit.ts';

describe('createConcurrencyLimit', () => {
  it('hands out at most max slots, then serves waiters in order', async () => {
    const limit = createConcurrencyLimit(2);
    const signal = new AbortController().signal;
    const first = await limit.acquire(signal);
    const second = await limit.acquire(signal);
    const order: string[] = [];
    const third = limit.acquire(signal).then((release) => {
      order.push('third');
      return release;
    });
    const fourth = limit.acquire(signal).then((release) => {
      order.push('fourth');
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    first!();
    first!();
    (await third)!();
    second!();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
  });

  it('gives up waiting when the signal aborts', async () => {
    const limit = createConcurrencyLimit(1);
    const held = await limit.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = limit.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    held!();
    expect(await limit.acquire(new AbortController().signal)).toBeTypeOf('function');
  });
});
