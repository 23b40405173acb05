import { InvalidArgumentError } from '../errors/index.ts';

const prefix = 'cw2.';
const maxMarks = 100;

/** A stream a write reached, and the version it reached: what a read must have applied. */
export interface StreamMark {
  streamId: string;
  version: number;
}

/**
 * An opaque token naming the streams a write reached and their versions. A read that presents it
 * waits until its read model has applied each of them (read-your-writes). Stream versions, not
 * log positions, so one token works in any service: the writer's own projections and another
 * service's read models fed by its events alike. A write that changed nothing names no stream:
 * its token waits for nothing.
 */
export function encodeConsistencyToken(marks: readonly StreamMark[]): string {
  const latest = new Map<string, number>();
  for (const { streamId, version } of marks)
    latest.set(streamId, Math.max(latest.get(streamId) ?? 0, version));
  return `${prefix}${Buffer.from(JSON.stringify([...latest])).toString('base64url')}`;
}

export function decodeConsistencyToken(token: unknown): StreamMark[] {
  if (typeof token === 'string' && token.startsWith(prefix) && token.length < 16_384) {
    try {
      const pairs = JSON.parse(
        Buffer.from(token.slice(prefix.length), 'base64url').toString('utf8'),
      ) as unknown;
      if (Array.isArray(pairs) && pairs.length <= maxMarks && pairs.every(isMark)) {
        return pairs.map(([streamId, version]) => ({ streamId, version }));
      }
    } catch {
      // Falls through to the typed error below.
    }
  }
  throw new InvalidArgumentError(
    'consistencyToken',
    `Consistency token ${JSON.stringify(String(token).slice(0, 80))} is malformed: pass back the token a write returned`,
  );
}

/** One token for several writes: each stream at the highest version any of them reached. */
export function mergeConsistencyTokens(tokens: readonly string[]): string {
  return encodeConsistencyToken(tokens.flatMap(decodeConsistencyToken));
}

function isMark(pair: unknown): pair is [string, number] {
  return (
    Array.isArray(pair) &&
    pair.length === 2 &&
    typeof pair[0] === 'string' &&
    pair[0].length > 0 &&
    Number.isSafeInteger(pair[1]) &&
    pair[1] >= 1
  );
}
