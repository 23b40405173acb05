import { describe, expect, it } from 'vitest';
import { appendEvents, eventually, type GetStore, sleep, uniqueName } from './fixtures.ts';

/** Change listeners wake up after appends commit, and stop when unsubscribed. */
export function describeChangeConformance(getStore: GetStore): void {
  describe('Store.subscribeToChanges', () => {
    it('calls the listener after an append commits, until unsubscribed', async () => {
      const store = getStore();
      let calls = 0;
      const unsubscribe = store.subscribeToChanges(() => {
        calls += 1;
      });
      try {
        await sleep(100);
        calls = 0;
        await appendEvents(store, uniqueName('stream'), 'noStream', 1);
        expect(await eventually(() => calls > 0, 1_000)).toBe(true);
      } finally {
        unsubscribe();
      }
      await sleep(100);
      calls = 0;
      await appendEvents(store, uniqueName('stream'), 'noStream', 1);
      await sleep(300);
      expect(calls).toBe(0);
    });
  });
}
