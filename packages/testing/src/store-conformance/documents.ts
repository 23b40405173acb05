import type { Store } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { type GetStore, rollBack, uniqueName } from './fixtures.ts';

interface Item {
  color: string;
  size: number;
  active: boolean;
}

const items: Record<string, Item> = {
  c: { color: 'red', size: 1, active: true },
  a: { color: 'red', size: 2, active: false },
  d: { color: 'blue', size: 2, active: true },
  b: { color: 'green', size: 1, active: true },
};

async function seed(store: Store): Promise<string> {
  const collection = uniqueName('collection');
  await store.transaction(async (tx) => {
    for (const [id, item] of Object.entries(items)) await store.documents.put(tx, collection, id, item);
  });
  return collection;
}

/** JSON documents by collection and id: put/get/delete, filtered and paged find, count, drop. */
export function describeDocumentConformance(getStore: GetStore): void {
  describe('DocumentStore', () => {
    it('puts, replaces, gets and deletes a document', async () => {
      const store = getStore();
      const collection = uniqueName('collection');
      const document = { name: 'Ada', tags: ['x'], address: { city: 'Zürich' }, score: 1.5, note: null };
      expect(await store.documents.get(null, collection, 'doc-1')).toBeNull();
      await store.transaction((tx) => store.documents.put(tx, collection, 'doc-1', document));
      expect(await store.documents.get(null, collection, 'doc-1')).toEqual(document);
      await store.transaction((tx) => store.documents.put(tx, collection, 'doc-1', { name: 'Grace' }));
      expect(await store.documents.get(null, collection, 'doc-1')).toEqual({ name: 'Grace' });
      expect(await store.documents.get(null, uniqueName('collection'), 'doc-1')).toBeNull();
      expect(await store.transaction((tx) => store.documents.delete(tx, collection, 'doc-1'))).toBe(true);
      expect(await store.transaction((tx) => store.documents.delete(tx, collection, 'doc-1'))).toBe(false);
      expect(await store.documents.get(null, collection, 'doc-1')).toBeNull();
    });

    it('keeps nothing put in a rolled-back transaction', async () => {
      const store = getStore();
      const collection = uniqueName('collection');
      await rollBack(store, (tx) => store.documents.put(tx, collection, 'doc-1', { kept: false }));
      expect(await store.documents.get(null, collection, 'doc-1')).toBeNull();
      expect(await store.documents.count(null, collection)).toBe(0);
    });

    it('finds documents in id order, filtered by top-level fields', async () => {
      const store = getStore();
      const collection = await seed(store);
      const found = async (where?: Record<string, string | number | boolean>) =>
        (await store.documents.find<Item>(null, collection, where ? { where } : undefined)).map(
          (row) => row.id,
        );
      expect(await found()).toEqual(['a', 'b', 'c', 'd']);
      expect(await found({ color: 'red' })).toEqual(['a', 'c']);
      expect(await found({ size: 2 })).toEqual(['a', 'd']);
      expect(await found({ active: true })).toEqual(['b', 'c', 'd']);
      expect(await found({ active: false, color: 'red' })).toEqual(['a']);
      expect(await found({ size: '2' })).toEqual([]);
      expect(await found({ color: 'purple' })).toEqual([]);
      const [first] = await store.documents.find<Item>(null, collection, { limit: 1 });
      expect(first).toEqual({ id: 'a', document: items.a });
    });

    it('pages with limit and afterId', async () => {
      const store = getStore();
      const collection = await seed(store);
      const page = async (options: { limit?: number; afterId?: string; where?: Record<string, string> }) =>
        (await store.documents.find(null, collection, options)).map((row) => row.id);
      expect(await page({ limit: 2 })).toEqual(['a', 'b']);
      expect(await page({ limit: 2, afterId: 'b' })).toEqual(['c', 'd']);
      expect(await page({ afterId: 'd' })).toEqual([]);
      expect(await page({ afterId: 'a', where: { color: 'red' } })).toEqual(['c']);
    });

    it('counts and drops one collection only', async () => {
      const store = getStore();
      const [collection, other] = [await seed(store), await seed(store)];
      expect(await store.documents.count(null, collection)).toBe(4);
      expect(await store.transaction((tx) => store.documents.dropCollection(tx, collection))).toBe(4);
      expect(await store.documents.count(null, collection)).toBe(0);
      expect(await store.documents.find(null, collection)).toEqual([]);
      expect(await store.documents.count(null, other)).toBe(4);
    });
  });

  describeDocumentBatchConformance(getStore);
}

// ---------------------------------------------------------------------------------------------
// putMany and deleteMany: the batch writes projections flush with.
// ---------------------------------------------------------------------------------------------

function describeDocumentBatchConformance(getStore: GetStore): void {
  describe('putMany and deleteMany', () => {
    it('upserts many documents at once, a later entry for the same id winning', async () => {
      const store = getStore();
      const [collection, other] = [uniqueName('collection'), uniqueName('collection')];
      await store.transaction(async (tx) => {
        await store.documents.put(tx, collection, 'kept', { v: 'old' });
        await store.documents.put(tx, collection, 'replaced', { v: 'old' });
        await store.documents.put(tx, other, 'new', { v: 'other' });
      });
      await store.transaction((tx) =>
        store.documents.putMany(tx, collection, [
          { id: 'new', document: { v: 1, city: 'Zürich', tags: ['x'] } },
          { id: 'replaced', document: { v: 'first' } },
          { id: 'twice', document: { v: 'first' } },
          { id: 'replaced', document: { v: 'last' } },
          { id: 'nulled', document: null },
          { id: 'twice', document: { v: 'last' } },
        ]),
      );
      expect(await store.documents.find(null, collection)).toEqual([
        { id: 'kept', document: { v: 'old' } },
        { id: 'new', document: { v: 1, city: 'Zürich', tags: ['x'] } },
        { id: 'nulled', document: null },
        { id: 'replaced', document: { v: 'last' } },
        { id: 'twice', document: { v: 'last' } },
      ]);
      expect(await store.documents.find(null, other)).toEqual([{ id: 'new', document: { v: 'other' } }]);
      await store.transaction((tx) => store.documents.putMany(tx, collection, []));
      expect(await store.documents.count(null, collection)).toBe(5);
    });

    it('writes thousands of documents in one call', async () => {
      const store = getStore();
      const collection = uniqueName('collection');
      const entries = Array.from({ length: 6_001 }, (_, index) => ({
        id: `doc-${String(index).padStart(5, '0')}`,
        document: { index },
      }));
      entries.push({ id: 'doc-00000', document: { index: -1 } });
      await store.transaction((tx) => store.documents.putMany(tx, collection, entries));
      expect(await store.documents.count(null, collection)).toBe(6_001);
      expect(await store.documents.get(null, collection, 'doc-00000')).toEqual({ index: -1 });
      expect(await store.documents.get(null, collection, 'doc-06000')).toEqual({ index: 6_000 });
    });

    it('keeps nothing of a putMany or deleteMany in a rolled-back transaction', async () => {
      const store = getStore();
      const collection = uniqueName('collection');
      await store.transaction((tx) => store.documents.put(tx, collection, 'a', { v: 1 }));
      await rollBack(store, async (tx) => {
        await store.documents.putMany(tx, collection, [
          { id: 'a', document: { v: 2 } },
          { id: 'b', document: { v: 2 } },
        ]);
        expect(await store.documents.deleteMany(tx, collection, ['a'])).toBe(1);
      });
      expect(await store.documents.find(null, collection)).toEqual([{ id: 'a', document: { v: 1 } }]);
    });

    it('deletes many documents of one collection and counts only those that existed', async () => {
      const store = getStore();
      const [collection, other] = [uniqueName('collection'), uniqueName('collection')];
      const entries = ['a', 'b', 'c', 'd'].map((id) => ({ id, document: { id } }));
      await store.transaction(async (tx) => {
        await store.documents.putMany(tx, collection, entries);
        await store.documents.putMany(tx, other, entries);
      });
      const deleted = await store.transaction((tx) =>
        store.documents.deleteMany(tx, collection, ['a', 'c', 'c', 'missing']),
      );
      expect(deleted).toBe(2);
      expect((await store.documents.find(null, collection)).map((row) => row.id)).toEqual(['b', 'd']);
      expect(await store.documents.count(null, other)).toBe(4);
      expect(await store.transaction((tx) => store.documents.deleteMany(tx, collection, []))).toBe(0);
    });
  });
}
