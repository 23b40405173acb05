import { describe, expect, it } from 'vitest';
import { createPermits } from './permits.ts';

describe('permits', () => {
  it('lets at most `limit` holders in, the next waiter when one releases', async () => {
    const permits = createPermits(2);
    const first = await permits.acquire();
    await permits.acquire();
    let thirdIn = false;
    const third = permits.acquire().then((release) => {
      thirdIn = true;
      return release;
    });
    await Promise.resolve();
    expect(thirdIn).toBe(false);
    first();
    first(); // a second release of the same permit counts once
    (await third)();
    const fourth = await Promise.race([
      permits.acquire(),
      new Promise((resolve) => setTimeout(resolve, 20, 'blocked')),
    ]);
    expect(typeof fourth).toBe('function');
    const fifth = await Promise.race([
      permits.acquire(),
      new Promise((resolve) => setTimeout(resolve, 20, 'blocked')),
    ]);
    expect(fifth).toBe('blocked');
  });
});
