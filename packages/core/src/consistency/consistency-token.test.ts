import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.ts';
import { decodeConsistencyToken, encodeConsistencyToken } from './consistency-token.ts';

describe('consistency token', () => {
  it('round-trips positions', () => {
    for (const position of [0, 1, 42, 2 ** 40])
      expect(decodeConsistencyToken(encodeConsistencyToken(position))).toBe(position);
  });
  it('rejects anything else with a typed error', () => {
    for (const bad of ['', 'cw1.', 'cw1.-1', 'cw2.1', 'cw1.1x!', 42, null]) {
      expect(() => decodeConsistencyToken(bad)).toThrow(InvalidArgumentError);
    }
  });
});
