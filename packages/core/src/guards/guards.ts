import { InvalidArgumentError } from '../errors/index.ts';

const streamIdPattern = /^[A-Za-z0-9_][A-Za-z0-9_.:@=+-]{0,199}$/;

/** Whether `value` may name a stream (system streams aside): what `assertStreamId` accepts. */
export function isStreamId(value: unknown): value is string {
  return typeof value === 'string' && streamIdPattern.test(value);
}

/** Stream ids are 1–200 characters of letters, digits and `_ . : @ = + -`; `$` starts system streams. */
export function assertStreamId(
  streamId: unknown,
  options: { allowSystem?: boolean } = {},
): asserts streamId is string {
  const candidate =
    options.allowSystem && typeof streamId === 'string' && streamId.startsWith('$')
      ? streamId.slice(1)
      : streamId;
  if (!isStreamId(candidate)) {
    throw new InvalidArgumentError(
      'streamId',
      `Stream id ${JSON.stringify(streamId)} is malformed: use 1-200 characters of letters, digits and _ . : @ = + - (not starting with a symbol)`,
      { streamId },
    );
  }
}

export const maxReadLimit = 10_000;

/** A page size: an integer in 1..10,000. */
export function assertLimit(limit: unknown, argument = 'limit'): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxReadLimit) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be an integer from 1 to ${maxReadLimit}, got ${String(limit)}`,
      {
        value: limit,
      },
    );
  }
}

/** A version or position: a non-negative safe integer. */
export function assertPosition(value: unknown, argument: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be a non-negative integer, got ${String(value)}`,
      { value },
    );
  }
}

export function assertIsoTime(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be an ISO-8601 timestamp, got ${String(value)}`,
      { value },
    );
  }
}
