/**
 * Consistency tokens: which streams a write reached, and at which versions. A read side that
 * has applied every listed stream up to its version shows that write (read-your-writes).
 */
import { InvalidRequestError } from './problem.ts';

export interface StreamMark {
  s: string;
  v: number;
}

export const consistencyHeader = 'consistency-token';

export function encodeConsistencyToken(marks: readonly StreamMark[]): string {
  return Buffer.from(JSON.stringify(marks)).toString('base64url');
}

export function decodeConsistencyToken(token: string): StreamMark[] {
  try {
    const marks = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(marks) &&
      marks.every((mark) => typeof mark?.s === 'string' && Number.isInteger(mark?.v) && mark.v >= 0)
    ) {
      return marks as StreamMark[];
    }
  } catch {
    // Falls through to the error below.
  }
  throw new InvalidRequestError('The Consistency-Token header is not a token this shop issued', {
    'Consistency-Token': ['unreadable token'],
  });
}

/** The marks of an append's result: the last version written per stream. */
export function marksOf(events: ReadonlyArray<{ streamId: string; streamPosition: number }>): StreamMark[] {
  const last = new Map<string, number>();
  for (const event of events)
    last.set(event.streamId, Math.max(last.get(event.streamId) ?? 0, event.streamPosition));
  return [...last].map(([s, v]) => ({ s, v }));
}
