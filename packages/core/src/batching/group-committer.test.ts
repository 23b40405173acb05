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
