import { describe, expect, it } from 'vitest';
import { soakReport, soakWindowSize, soakWindows } from './soak-report.ts';

/** Orders finishing every `gapMs(i)` ms, each with a latency of 100 ms. */
const finishing = (count: number, gapMs: (index: number) => number) => {
  const orders = [];
  let at = 0;
  for (let index = 0; index < count; index++) {
    at += gapMs(index);
    orders.push({ finishedAtMs: at, latencyMs: 100 });
  }
  return orders;
};

describe('soak windows', () => {
  it('rates each window over the time since the previous one ended, in finishing order', () => {
    const orders = finishing(30, (index) => (index < 10 ? 100 : index < 20 ? 200 : 400)).reverse();
    const windows = soakWindows(orders, 10);
    expect(windows.map((window) => [window.first, window.last, window.ordersPerSecond])).toEqual([
      [1, 10, 10],
      [11, 20, 5],
      [21, 30, 2.5],
    ]);
    expect(soakReport(windows).at(-1)).toBe(
      'Last window / first: 0.25x (NOT flat: history-flat means >= 0.90x)',
    );
  });

  it('calls a steady run flat and leaves out a short last window', () => {
    const windows = soakWindows(
      finishing(25, () => 50),
      10,
    );
    expect(windows).toHaveLength(2);
    expect(soakReport(windows).at(-1)).toBe('Last window / first: 1.00x (flat: history-flat means >= 0.90x)');
  });

  it('sizes windows for at least five, at most 1,000 orders', () => {
    expect([soakWindowSize(20_000), soakWindowSize(3_000), soakWindowSize(3)]).toEqual([1_000, 600, 1]);
  });
});
