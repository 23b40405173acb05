import { describe, expect, it } from 'vitest';
import { SwapGate } from './swap-gate.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('swap gate', () => {
  it('lets the swap in only when shared work already running has ended', async () => {
    const gate = new SwapGate();
    const order: string[] = [];
    let finishShared!: () => void;
    const shared = gate.shared(
      () =>
        new Promise<void>((resolve) => {
          finishShared = () => {
            order.push('shared ended');
            resolve();
          };
        }),
    );
    const swap = gate.exclusive().then((release) => {
      order.push('swap');
      return release;
    });
    await tick();
    expect(order).toEqual([]);
    finishShared();
    await shared;
    const release = await swap;
    expect(order).toEqual(['shared ended', 'swap']);
    release();
  });

  it('holds shared work that starts during the swap until it is released', async () => {
    const gate = new SwapGate();
    const release = await gate.exclusive();
    let ran = false;
    const shared = gate.shared(async () => {
      ran = true;
    });
    await tick();
    expect(ran).toBe(false);
    release();
    await shared;
    expect(ran).toBe(true);
  });
});
