import { describe, expect, it } from 'vitest';
import { cpuPerOrderReport } from './cpu-per-order.ts';

describe('CPU per order', () => {
  it('sums the differences of every process, and leaves out one that restarted or did not answer', () => {
    const before = {
      gateway: { pid: 1, userMs: 100, systemMs: 50 },
      orders: { pid: 2, userMs: 1_000, systemMs: 200 },
      inventory: { pid: 3, userMs: 10, systemMs: 0 },
      users: null,
    };
    const after = {
      gateway: { pid: 1, userMs: 300, systemMs: 150 },
      orders: { pid: 2, userMs: 1_800, systemMs: 400 },
      inventory: { pid: 9, userMs: 5, systemMs: 0 },
      users: { pid: 4, userMs: 1, systemMs: 1 },
    };
    expect(cpuPerOrderReport(before, after, 100)).toBe(
      'CPU per order, all shop processes: 13.0 ms (orders 10.0, gateway 3.0); not counted (no answer or restarted): inventory, users',
    );
  });
});
