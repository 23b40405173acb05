import { describe, expect, it } from 'vitest';
import { createGroupCommitter } from './group-committer.ts';

describe('group committer', () => {
  it('flushes the first request alone, then batches what arrived meanwhile', async () => {
    const batches: number[][] = [];
    const submit = createGroupCommitter<number, number>(async (batch) => {
      batches.push(batch);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return batch.map((n) => (n === 3 ? new Error(`bad ${n}`) : n * 10));
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => submit(n)));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      10,
      20,
      'bad 3',
      40,
    ]);
  });

  it('fails every request of a batch whose flush throws, and keeps serving', async () => {
    let calls = 0;
    const submit = createGroupCommitter<number, number>(async (batch) => {
      calls++;
      if (calls === 1) throw new Error('database gone');
      return batch;
    });
    await expect(submit(1)).rejects.toThrow('database gone');
    await expect(submit(2)).resolves.toBe(2);
  });

  it('caps the batch size', async () => {
    const sizes: number[] = [];
    const submit = createGroupCommitter<number, number>(
      async (batch) => {
        sizes.push(batch.length);
        return batch;
      },
      { maxBatch: 3 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, n) => submit(n)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, b) => a + b)).toBe(10);
  });
});

describe('group committer gathering per turn', () => {
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('sends a burst of calls made together as one batch, and a lone call at once', async () => {
    const batches: number[][] = [];
    const submit = createGroupCommitter<number, number>(
      async (batch) => {
        batches.push(batch);
        return batch;
      },
      { gatherPerTurn: true },
    );
    expect(await submit(1)).toBe(1);
    await Promise.all([2, 3, 4].map((n) => submit(n)));
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('under load, keeps batches full: callers that resume after a flush share the next one', async () => {
    const sizes: number[] = [];
    const submit = createGroupCommitter<number, number>(
      async (batch) => {
        sizes.push(batch.length);
        await tick();
        return batch;
      },
      { gatherPerTurn: true, maxConcurrentFlushes: 2 },
    );
    // Eight callers, each appending again as soon as its previous append resolves.
    await Promise.all(
      Array.from({ length: 8 }, async (_, caller) => {
        for (let n = 0; n < 20; n++) await submit(caller * 100 + n);
      }),
    );
    expect(sizes.reduce((a, b) => a + b)).toBe(160);
    // Without the turn's wait, flushes alternate between one caller and the rest (sizes 1, 7, 1, 7...).
    const lone = sizes.slice(1).filter((size) => size === 1).length;
    expect(lone).toBeLessThanOrEqual(2);
  });

  it('admits each request in its caller context: a refused one fails alone and is never flushed', async () => {
    const flushed: number[] = [];
    const submit = createGroupCommitter<number, number>(
      async (batch) => {
        flushed.push(...batch);
        return batch;
      },
      {
        gatherPerTurn: true,
        admit: (n) => {
          if (n === 2) throw new Error('not from here');
        },
      },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => submit(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(flushed).toEqual([1, 3]);
  });
});
