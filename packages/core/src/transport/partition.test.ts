import { describe, expect, it } from 'vitest';
import { partitionOf } from './partition.ts';

describe('partitionOf', () => {
  it('is the FNV-1a hash modulo the partition count, stable across runs', () => {
    // Known FNV-1a 32-bit values: "" = 0x811c9dc5, "a" = 0xe40c292c.
    expect(partitionOf('', 1 << 12)).toBe(0x811c9dc5 % 4096);
    expect(partitionOf('a', 4096)).toBe(0xe40c292c % 4096);
    expect(partitionOf('order-42', 16)).toBe(partitionOf('order-42', 16));
  });

  it('spreads keys over every partition', () => {
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => partitionOf(`order-${i}`, 16)));
    expect(seen.size).toBe(16);
  });

  it('refuses a bad partition count', () => {
    for (const bad of [0, -1, 1.5, 5000]) expect(() => partitionOf('k', bad)).toThrow(/partitions must be/);
  });
});
