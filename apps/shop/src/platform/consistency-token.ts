/**
 * Consistency tokens over HTTP: core's token (the streams a write reached, and their versions),
 * carried in the Consistency-Token header, several comma-separated when a client made several
 * writes. Any service's read side that has applied every listed stream up to its version shows
 * those writes (read-your-writes).
 */
import {
  decodeConsistencyToken,
  encodeConsistencyToken,
  InvalidArgumentError,
  type StreamMark,
} from '@causeway/core';
import { InvalidRequestError } from './problem.ts';

export const consistencyHeader = 'consistency-token';

/** The token of a write: the last version it wrote in each stream. */
export function consistencyTokenOf(
  events: ReadonlyArray<{ streamId: string; streamPosition: number }>,
): string {
  return encodeConsistencyToken(
    events.map((event) => ({ streamId: event.streamId, version: event.streamPosition })),
  );
}

/** The marks of a Consistency-Token header; a token this shop did not issue is a 400. */
export function decodeConsistencyHeader(header: string): StreamMark[] {
  try {
    return header.split(',').flatMap((token) => decodeConsistencyToken(token.trim()));
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new InvalidRequestError('The Consistency-Token header is not a token this shop issued', {
      'Consistency-Token': ['unreadable token'],
    });
  }
}
