import { describe, expect, it } from 'vitest';
import { createAttemptMemory } from './attempt-memory.ts';

describe('createAttemptMemory', () => {
  it("continues after this process's attempts, or after the broker's count if higher", () => {
    const memory = createAttemptMemory();
    expect(memory.next('m1', 1)).toBe(1);
    memory.record('m1', 5);
    expect(memory.next('m1', 2)).toBe(6);
    expect(memory.next('m1', 9)).toBe(9);
    memory.forget('m1');
    expect(memory.next('m1', 2)).toBe(2);
  });

  it('forgets the oldest entries past its capacity', () => {
    const memory = createAttemptMemory(2);
    memory.record('a', 3);
    memory.record('b', 3);
    memory.record('a', 4);
    memory.record('c', 3);
    expect(memory.next('b', 1)).toBe(1);
    expect(memory.next('a', 1)).toBe(5);
  });
});
