import { describe, expect, it } from 'vitest';
import { type GetStore, rollBack, uniqueName } from './fixtures.ts';

/** Checkpoints are saved with the read model's transaction and listed for operators. */
export function describeCheckpointConformance(getStore: GetStore): void {
  describe('CheckpointStore', () => {
    it('loads null for an unknown name, then what was saved last', async () => {
      const store = getStore();
      const name = uniqueName('projection');
      expect(await store.checkpoints.load(null, name)).toBeNull();
      await store.transaction((tx) => store.checkpoints.save(tx, name, { position: 10, generation: 1 }));
      expect(await store.checkpoints.load(null, name)).toEqual({ position: 10, generation: 1 });
      await store.transaction(async (tx) => {
        await store.checkpoints.save(tx, name, { position: 25, generation: 2 });
        expect(await store.checkpoints.load(tx, name)).toEqual({ position: 25, generation: 2 });
      });
      expect(await store.checkpoints.load(null, name)).toEqual({ position: 25, generation: 2 });
    });

    it('saves from a checkpoint only while it still is that one', async () => {
      const store = getStore();
      const name = uniqueName('projection');
      const save = (position: number, from: { position: number; generation: number }) =>
        store.transaction((tx) => store.checkpoints.save(tx, name, { position, generation: 1 }, { from }));
      await store.transaction((tx) => store.checkpoints.save(tx, name, { position: 5, generation: 1 }));
      expect(await save(9, { position: 5, generation: 1 })).toBe(true);
      expect(await save(12, { position: 5, generation: 1 })).toBe(false);
      expect(await save(12, { position: 9, generation: 2 })).toBe(false);
      expect(await store.checkpoints.load(null, name)).toEqual({ position: 9, generation: 1 });
    });

    it('keeps nothing saved in a rolled-back transaction', async () => {
      const store = getStore();
      const name = uniqueName('projection');
      await store.transaction((tx) => store.checkpoints.save(tx, name, { position: 3, generation: 1 }));
      await rollBack(store, (tx) => store.checkpoints.save(tx, name, { position: 99, generation: 7 }));
      expect(await store.checkpoints.load(null, name)).toEqual({ position: 3, generation: 1 });
    });

    it('lists checkpoints with their update time', async () => {
      const store = getStore();
      const name = uniqueName('projection');
      const before = Date.now();
      await store.transaction((tx) => store.checkpoints.save(tx, name, { position: 7, generation: 3 }));
      const listed = (await store.checkpoints.list()).find((checkpoint) => checkpoint.name === name);
      expect(listed).toMatchObject({ name, position: 7, generation: 3 });
      expect(Date.parse(listed!.updatedAt)).toBeGreaterThanOrEqual(before - 1_000);
    });

    it('deletes a checkpoint', async () => {
      const store = getStore();
      const name = uniqueName('projection');
      await store.transaction((tx) => store.checkpoints.save(tx, name, { position: 1, generation: 1 }));
      await store.transaction((tx) => store.checkpoints.delete(tx, name));
      expect(await store.checkpoints.load(null, name)).toBeNull();
      expect((await store.checkpoints.list()).map((checkpoint) => checkpoint.name)).not.toContain(name);
    });
  });
}
