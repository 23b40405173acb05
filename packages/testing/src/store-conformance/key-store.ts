import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type GetStore, rollBack, uniqueName } from './fixtures.ts';

/** First key wins; destroying a key leaves a tombstone so no new key is ever made. */
export function describeKeyStoreConformance(getStore: GetStore): void {
  describe('KeyStore', () => {
    it('keeps the first key of a subject', async () => {
      const store = getStore();
      const subject = uniqueName('subject');
      const [first, second] = [randomBytes(32), randomBytes(32)];
      expect(await store.keys.getOrCreateKey(null, subject, first)).toEqual(first);
      expect(await store.keys.getOrCreateKey(null, subject, second)).toEqual(first);
      const inTransaction = await store.transaction((tx) => store.keys.getOrCreateKey(tx, subject, second));
      expect(inTransaction).toEqual(first);
    });

    it('keeps no key created in a rolled-back transaction', async () => {
      const store = getStore();
      const subject = uniqueName('subject');
      await rollBack(store, (tx) => store.keys.getOrCreateKey(tx, subject, randomBytes(32)));
      const key = randomBytes(32);
      expect(await store.keys.getOrCreateKey(null, subject, key)).toEqual(key);
    });

    it('maps known subjects to their keys, forgotten ones to null, and leaves unknown ones out', async () => {
      const store = getStore();
      const [known, forgotten, unknown] = [
        uniqueName('subject'),
        uniqueName('subject'),
        uniqueName('subject'),
      ];
      const key = randomBytes(32);
      await store.keys.getOrCreateKey(null, known, key);
      await store.keys.getOrCreateKey(null, forgotten, randomBytes(32));
      await store.transaction((tx) => store.keys.destroyKey(tx, forgotten));
      const keys = await store.keys.getKeys(null, [known, forgotten, unknown]);
      expect(keys.size).toBe(2);
      expect(Buffer.isBuffer(keys.get(known))).toBe(true);
      expect(keys.get(known)).toEqual(key);
      expect(keys.has(forgotten)).toBe(true);
      expect(keys.get(forgotten)).toBeNull();
      expect(keys.has(unknown)).toBe(false);
      expect((await store.keys.getKeys(null, [])).size).toBe(0);
    });

    it('destroys a key once and never makes a new one for that subject', async () => {
      const store = getStore();
      const subject = uniqueName('subject');
      await store.keys.getOrCreateKey(null, subject, randomBytes(32));
      expect(await store.transaction((tx) => store.keys.destroyKey(tx, subject))).toBe(true);
      expect(await store.transaction((tx) => store.keys.destroyKey(tx, subject))).toBe(false);
      expect(await store.keys.getOrCreateKey(null, subject, randomBytes(32))).toBeNull();
      expect((await store.keys.getKeys(null, [subject])).get(subject)).toBeNull();
    });

    it('keeps the key when the destroying transaction rolls back', async () => {
      const store = getStore();
      const subject = uniqueName('subject');
      const key = randomBytes(32);
      await store.keys.getOrCreateKey(null, subject, key);
      await rollBack(store, async (tx) => {
        expect(await store.keys.destroyKey(tx, subject)).toBe(true);
      });
      expect((await store.keys.getKeys(null, [subject])).get(subject)).toEqual(key);
    });
  });
}
