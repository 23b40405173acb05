import { describe, expect, it } from 'vitest';
import { createRunScheduler } from './run-scheduler.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A scheduler whose scheduled runs are counted, and an asked-for run held open until released. */
function countingScheduler(debounceMs: number) {
  let runs = 0;
  const scheduler = createRunScheduler({
    debounceMs,
    run: async () => {
      runs++;
    },
    onError: (error) => {
      throw error;
    },
  });
  return {
    scheduler,
    runs: () => runs,
    /** Starts an asked-for run that lasts until `release` is called. */
    holdRun() {
      let release = () => {};
      const asked = scheduler.runNow(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      );
      return { asked, release: () => release() };
    },
  };
}

describe('createRunScheduler', () => {
  it('runs once for a burst of requests, and again for requests made during a run, asked-for runs included', async () => {
    const { scheduler, runs, holdRun } = countingScheduler(20);
    for (let i = 0; i < 5; i++) scheduler.request();
    await pause(60);
    expect(runs()).toBe(1);
    const held = holdRun();
    await pause(5);
    scheduler.request(); // during the asked-for run
    held.release();
    await held.asked;
    await pause(60);
    expect(runs()).toBe(2);
    await scheduler.stop();
  });

  it('runs again at once, without the debounce, for changes that arrived during a run', async () => {
    const { scheduler, runs, holdRun } = countingScheduler(60_000);
    const held = holdRun();
    await pause(5);
    scheduler.request();
    scheduler.request();
    held.release();
    await held.asked;
    await pause(50);
    expect(runs()).toBe(1); // one run for both requests, long before the minute's debounce
    await scheduler.stop();
  });

  it('is not starved by a steady stream of requests', async () => {
    const { scheduler, runs } = countingScheduler(30);
    for (let i = 0; i < 20; i++) {
      scheduler.request();
      await pause(10);
    }
    expect(runs()).toBeGreaterThan(1);
    await scheduler.stop();
  });

  it('with a spacing, starts runs under a steady stream of changes no closer than the spacing, and still covers the last change', async () => {
    const starts: number[] = [];
    let covered = 0;
    let requested = 0;
    const scheduler = createRunScheduler({
      debounceMs: 5,
      spacingMs: 80,
      run: async () => {
        starts.push(Date.now());
        const seen = requested;
        await pause(10);
        covered = seen;
      },
      onError: (error) => {
        throw error;
      },
    });
    for (let i = 0; i < 40; i++) {
      requested++;
      scheduler.request();
      await pause(5);
    }
    await pause(250);
    expect(starts.length).toBeGreaterThan(1);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(79);
    expect(covered).toBe(requested);
    await scheduler.stop();
  });
});
