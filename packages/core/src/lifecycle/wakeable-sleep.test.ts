import { expect, it } from 'vitest';
import { createWakeableSleep } from './wakeable-sleep.ts';

const elapsedMs = async (work: () => Promise<void>) => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};

it('ends a pending sleep on wake, and sleeps the whole time without one', async () => {
  const { sleep, wake } = createWakeableSleep();
  const woken = elapsedMs(() => sleep(5_000));
  setTimeout(wake, 10);
  expect(await woken).toBeLessThan(1_000);
  expect(await elapsedMs(() => sleep(50))).toBeGreaterThanOrEqual(45);
});

it('remembers a wake that found no sleeper: the next sleep returns at once, the one after does not', async () => {
  const { sleep, wake } = createWakeableSleep();
  wake();
  expect(await elapsedMs(() => sleep(5_000))).toBeLessThan(1_000);
  expect(await elapsedMs(() => sleep(50))).toBeGreaterThanOrEqual(45);
});
