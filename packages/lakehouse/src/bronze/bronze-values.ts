/**
 * How a change's JavaScript values become bronze's stored values, without loss: JSON text for rows,
 * microseconds since the epoch for times.
 */
import { InvalidArgumentError } from '@causeway/core';

/**
 * A row as JSON text that keeps what `JSON.stringify` would lose: bigints become decimal strings,
 * bytes become PostgreSQL's `\x` hex text, non-finite numbers become `"NaN"` / `"Infinity"`, dates
 * their ISO string. A property whose value is `undefined` stays absent (an unchanged TOAST value).
 */
export function toJsonText(row: Record<string, unknown> | null): string | null {
  if (row === null) return null;
  // A replacer takes JSON.stringify off V8's fast path: most rows need none.
  return needsKeeping(row) ? JSON.stringify(row, keepValue) : JSON.stringify(row);
}

function keepValue(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `value` has been through toJSON already (a Buffer is { type, data } by now): look at the original.
  const original = this[key];
  if (original instanceof Uint8Array) return `\\x${Buffer.from(original).toString('hex')}`;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** Whether JSON.stringify alone would lose or refuse something in `value`, at any depth. */
function needsKeeping(value: unknown): boolean {
  switch (typeof value) {
    case 'bigint':
      return true;
    case 'number':
      return !Number.isFinite(value);
    case 'object': {
      if (value === null || value instanceof Date) return false;
      if (value instanceof Uint8Array) return true;
      if (Array.isArray(value)) return value.some(needsKeeping);
      // Whatever another toJSON answers is looked at by the replacer only.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
      for (const key in value) if (needsKeeping((value as Record<string, unknown>)[key])) return true;
      return false;
    }
    default:
      return false;
  }
}

const isoTime =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * Microseconds since the epoch of an ISO time with an offset (`Z`, `+02:00`, or PostgreSQL's `+00`).
 * Parsed here rather than by DuckDB: the appender casts a string into TIMESTAMPTZ ignoring its offset.
 */
export function parseIsoMicros(text: string, what: string): bigint {
  // The changes of one commit share its time: remembering the last one skips most of the parsing.
  if (text === lastParsed.text) return lastParsed.micros;
  const micros = parseIsoMicrosAnew(text, what);
  lastParsed = { text, micros };
  return micros;
}

let lastParsed: { text: string | undefined; micros: bigint } = { text: undefined, micros: 0n };

function parseIsoMicrosAnew(text: string, what: string): bigint {
  const match = typeof text === 'string' ? isoTime.exec(text) : null;
  if (match === null) {
    throw new InvalidArgumentError(
      'committedAt',
      `${what} ${JSON.stringify(text)} is not an ISO time with an offset`,
    );
  }
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match as unknown as string[];
  const millis = Date.UTC(+year!, +month! - 1, +day!, +hour!, +minute!, +second!);
  if (new Date(millis).toISOString().slice(0, 19) !== `${year}-${month}-${day}T${hour}:${minute}:${second}`) {
    throw new InvalidArgumentError('committedAt', `${what} ${text} is not a real date and time`);
  }
  const micros = BigInt(millis) * 1000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
  return micros - BigInt(zoneMinutes(zone!)) * 60_000_000n;
}

function zoneMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

/** Microseconds since the epoch as an ISO string (`2026-01-02T03:04:05.123456Z`). */
export function formatIsoMicros(micros: bigint): string {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const base = new Date(Number(millis)).toISOString().slice(0, 19);
  const fraction = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${base}.${fraction.toString().padStart(6, '0')}Z`;
}
