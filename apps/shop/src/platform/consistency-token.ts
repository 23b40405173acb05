/**
 * Consistency tokens over HTTP: core's token (the streams a write reached, and their versions),
 * carried in the Consistency-Token header. Any service's read side that has applied every listed
 * stream up to its version shows that write (read-your-writes).
 */
import {
  decodeConsistencyToken as decodeToken,
  encodeConsistencyToken as encodeToken,
  InvalidArgumentError,
} from '@causeway/core';
import { InvalidRequestError } from './problem.ts';

export interface StreamMark {
  s: string;
  v: number;
}

export const consistencyHeader = 'consistency-token';

export function encodeConsistencyToken(marks: readonly StreamMark[]): string {
  return encodeToken(marks.map((mark) => ({ streamId: mark.s, version: mark.v })));
}

export function decodeConsistencyToken(token: string): StreamMark[] {
  try {
    return decodeToken(token).map((mark) => ({ s: mark.streamId, v: mark.version }));
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new InvalidRequestError('The Consistency-Token header is not a token this shop issued', {
      'Consistency-Token': ['unreadable token'],
    });
  }
}

/** The marks of an append's result: the last version written per stream. */
export function marksOf(events: ReadonlyArray<{ streamId: string; streamPosition: number }>): StreamMark[] {
  const last = new Map<string, number>();
  for (const event of events)
    last.set(event.streamId, Math.max(last.get(event.streamId) ?? 0, event.streamPosition));
  return [...last].map(([s, v]) => ({ s, v }));
}
