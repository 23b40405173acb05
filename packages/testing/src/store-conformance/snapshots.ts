import type { Snapshot } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { type GetStore, rollBack, uniqueName } from './fixtures.ts';

function newSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    streamId: uniqueName('stream'),
    aggregateType: 'Order',
    streamVersion: 5,
    snapshotVersion: 1,
    subjectId: null,
    state: { total: 42, lines: [{ sku: 'a', quantity: 1 }], note: null },
    takenAt: '2024-03-04T05:06:07.890Z',
    ...overrides,
  };
}

/** One snapshot per stream, never replaced by an older one, deletable by subject. */
export function describeSnapshotConformance(getStore: GetStore): void {
  describe('SnapshotStore', () => {
    it('saves and loads a snapshot exactly, with or without a transaction', async () => {
      const store = getStore();
      const snapshot = newSnapshot({ subjectId: uniqueName('subject') });
      expect(await store.snapshots.load(null, snapshot.streamId)).toBeNull();
      await store.snapshots.save(null, snapshot);
      expect(await store.snapshots.load(null, snapshot.streamId)).toEqual(snapshot);
      const inTransaction = newSnapshot();
      await store.transaction((tx) => store.snapshots.save(tx, inTransaction));
      expect(await store.snapshots.load(null, inTransaction.streamId)).toEqual(inTransaction);
    });

    it('never replaces a snapshot with one taken at an older stream version', async () => {
      const store = getStore();
      const streamId = uniqueName('stream');
      await store.snapshots.save(null, newSnapshot({ streamId, streamVersion: 5, state: 'five' }));
      await store.snapshots.save(null, newSnapshot({ streamId, streamVersion: 3, state: 'three' }));
      expect((await store.snapshots.load(null, streamId))?.state).toBe('five');
      await store.snapshots.save(
        null,
        newSnapshot({ streamId, streamVersion: 8, snapshotVersion: 2, state: 'eight' }),
      );
      expect(await store.snapshots.load(null, streamId)).toMatchObject({
        streamVersion: 8,
        snapshotVersion: 2,
        state: 'eight',
      });
    });

    it('keeps nothing saved in a rolled-back transaction', async () => {
      const store = getStore();
      const snapshot = newSnapshot();
      await rollBack(store, (tx) => store.snapshots.save(tx, snapshot));
      expect(await store.snapshots.load(null, snapshot.streamId)).toBeNull();
    });

    it('deletes the snapshots of one subject only', async () => {
      const store = getStore();
      const [subject, otherSubject] = [uniqueName('subject'), uniqueName('subject')];
      const own = [newSnapshot({ subjectId: subject }), newSnapshot({ subjectId: subject })];
      const other = newSnapshot({ subjectId: otherSubject });
      for (const snapshot of [...own, other]) await store.snapshots.save(null, snapshot);
      expect(await store.transaction((tx) => store.snapshots.deleteBySubject(tx, subject))).toBe(2);
      expect(await store.snapshots.load(null, own[0]!.streamId)).toBeNull();
      expect(await store.snapshots.load(null, own[1]!.streamId)).toBeNull();
      expect(await store.snapshots.load(null, other.streamId)).toEqual(other);
    });
  });
}
