import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.ts';
import {
  decodeConsistencyToken,
  encodeConsistencyToken,
  mergeConsistencyTokens,
  sessionPositionOf,
} from './consistency-token.ts';

describe('consistency token', () => {
  it('round-trips stream marks, one per stream at its highest version', () => {
    const token = encodeConsistencyToken([
      { streamId: 'order-1', version: 2 },
      { streamId: 'order-1', version: 3 },
      { streamId: 'user:7', version: 1 },
    ]);
    expect(decodeConsistencyToken(token)).toEqual([
      { streamId: 'order-1', version: 3 },
      { streamId: 'user:7', version: 1 },
    ]);
  });
  it('carries the primary log position a session read waits for, and merges to the highest', () => {
    const marks = [{ streamId: 'order-1', version: 2 }];
    const positioned = encodeConsistencyToken(marks, 2n ** 40n + 5n);
    expect(decodeConsistencyToken(positioned)).toEqual(marks);
    expect(sessionPositionOf(positioned)).toBe(2n ** 40n + 5n);
    expect(sessionPositionOf(encodeConsistencyToken(marks))).toBeUndefined();
    const later = encodeConsistencyToken([{ streamId: 'b', version: 1 }], 7n);
    expect(sessionPositionOf(mergeConsistencyTokens([positioned, later]))).toBe(2n ** 40n + 5n);
    // One write without a position (a store without replicas): the merged token has none.
    expect(sessionPositionOf(mergeConsistencyTokens([later, encodeConsistencyToken(marks)]))).toBeUndefined();
    expect(() => sessionPositionOf(`cw3.${Buffer.from('{"m":[],"p":"-1"}').toString('base64url')}`)).toThrow(
      InvalidArgumentError,
    );
  });
  it('names no stream for a write that changed nothing', () => {
    expect(decodeConsistencyToken(encodeConsistencyToken([]))).toEqual([]);
  });
  it('merges the tokens of several writes', () => {
    const merged = mergeConsistencyTokens([
      encodeConsistencyToken([{ streamId: 'a', version: 4 }]),
      encodeConsistencyToken([
        { streamId: 'a', version: 2 },
        { streamId: 'b', version: 1 },
      ]),
    ]);
    expect(decodeConsistencyToken(merged)).toEqual([
      { streamId: 'a', version: 4 },
      { streamId: 'b', version: 1 },
    ]);
  });
  it('rejects anything else with a typed error', () => {
    const encoded = (value: unknown) => `cw2.${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
    for (const bad of [
      '',
      'cw2.',
      'cw1.1',
      'cw2.!!',
      encoded([['a', 0]]),
      encoded([['', 1]]),
      encoded([['a', 1.5]]),
      encoded({ a: 1 }),
      encoded(Array.from({ length: 101 }, (_, i) => [`s${i}`, 1])),
      42,
      null,
    ]) {
      expect(() => decodeConsistencyToken(bad)).toThrow(InvalidArgumentError);
    }
  });
});
