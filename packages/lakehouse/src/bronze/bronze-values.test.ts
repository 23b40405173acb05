import { InvalidArgumentError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { formatIsoMicros, parseIsoMicros, toJsonText } from './bronze-values.ts';

describe('parseIsoMicros', () => {
  const base = BigInt(Date.parse('2026-01-02T03:04:05Z')) * 1000n;

  it.each([
    ['2026-01-02T03:04:05Z', base],
    ['2026-01-02T03:04:05.123456Z', base + 123_456n],
    ['2026-01-02T05:04:05.1+02:00', base + 100_000n],
    ['2026-01-02 03:04:05.000001+00', base + 1n],
    ['2026-01-01T23:34:05-0330', base],
    ['2026-01-02T03:04:05.123456789Z', base + 123_456n],
  ])('reads %s with its offset and its microseconds', (text, micros) => {
    expect(parseIsoMicros(text, 'time')).toBe(micros);
  });

  it.each(['2026-01-02T03:04:05', '2026-02-30T00:00:00Z', 'yesterday', '2026-01-02T24:00:00Z'])(
    'refuses %s',
    (text) => {
      expect(() => parseIsoMicros(text, 'time')).toThrow(InvalidArgumentError);
    },
  );

  it('formats microseconds back to the same ISO time', () => {
    expect(formatIsoMicros(parseIsoMicros('2026-01-02T03:04:05.000042Z', 'time'))).toBe(
      '2026-01-02T03:04:05.000042Z',
    );
    expect(formatIsoMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
});

describe('toJsonText', () => {
  it('keeps null as SQL NULL and bytes nested in arrays as hex', () => {
    expect(toJsonText(null)).toBeNull();
    expect(toJsonText({ parts: [new Uint8Array([1, 255])], big: [-(2n ** 70n)] })).toBe(
      `{"parts":["\\\\x01ff"],"big":["-1180591620717411303424"]}`,
    );
  });

  it('keeps what plain JSON would lose wherever it is nested, and writes a plain row as JSON does', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const plain = { id: 1, name: 'tea', tags: ['a', { deep: [1.5, null, true] }], at };
    expect(toJsonText(plain)).toBe(JSON.stringify(plain));
    expect(toJsonText({ a: { b: [{ c: 7n }] } })).toBe('{"a":{"b":[{"c":"7"}]}}');
    expect(toJsonText({ a: { b: Number.NaN }, c: [-Infinity] })).toBe('{"a":{"b":"NaN"},"c":["-Infinity"]}');
    expect(toJsonText({ a: { b: Buffer.from([0xab]) }, at })).toBe(
      `{"a":{"b":"\\\\xab"},"at":"2026-01-02T03:04:05.678Z"}`,
    );
  });
});
