import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.ts';
import { assertLimit, assertStreamId } from './guards.ts';

describe('guards', () => {
  it('accepts usual stream ids and refuses malformed ones', () => {
    for (const ok of ['order-42', 'user:0190a1b2', 'Account_1.x', 'a'])
      expect(() => assertStreamId(ok)).not.toThrow();
    for (const bad of ['', ' x', '-x', 'a b', 'x'.repeat(201), '$system', 'a/b', 42, null]) {
      expect(() => assertStreamId(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => assertStreamId('$subject-1', { allowSystem: true })).not.toThrow();
  });
  it('bounds limits', () => {
    for (const bad of [0, -1, 1.5, 10_001, Number.NaN, '10'])
      expect(() => assertLimit(bad)).toThrow(/limit must be an integer from 1 to 10000/);
    expect(() => assertLimit(10_000)).not.toThrow();
  });
});
