import { InvalidArgumentError } from '../errors/index.ts';

const prefix = 'cw2.';
/** The same marks with the primary's log position after the write, for session reads on replicas. */
const positionedPrefix = 'cw3.';
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
export function encodeConsistencyToken(marks: readonly StreamMark[], sessionPosition?: bigint): string {
  const latest = new Map<string, number>();
  for (const { streamId, version } of marks)
    latest.set(streamId, Math.max(latest.get(streamId) ?? 0, version));
  if (sessionPosition === undefined) {
    return `${prefix}${Buffer.from(JSON.stringify([...latest])).toString('base64url')}`;
  }
  const body = { m: [...latest], p: sessionPosition.toString() };
  return `${positionedPrefix}${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
}

interface DecodedToken {
  marks: StreamMark[];
  sessionPosition: bigint | undefined;
}

function decode(token: unknown): DecodedToken {
  if (typeof token === 'string' && token.length < 16_384) {
    const positioned = token.startsWith(positionedPrefix);
    if (positioned || token.startsWith(prefix)) {
      try {
        const body = JSON.parse(
          Buffer.from(token.slice(prefix.length), 'base64url').toString('utf8'),
        ) as unknown;
        const pairs = positioned ? (body as { m?: unknown }).m : body;
        const position = positioned ? (body as { p?: unknown }).p : undefined;
        const positionOk = !positioned || (typeof position === 'string' && /^\d{1,20}$/.test(position));
        if (Array.isArray(pairs) && pairs.length <= maxMarks && pairs.every(isMark) && positionOk) {
          return {
            marks: pairs.map(([streamId, version]) => ({ streamId, version })),
            sessionPosition: positioned ? BigInt(position as string) : undefined,
          };
        }
      } catch {
        // Falls through to the typed error below.
      }
    }
  }
  throw new InvalidArgumentError(
    'consistencyToken',
    `Consistency token ${JSON.stringify(String(token).slice(0, 80))} is malformed: pass back the token a write returned`,
  );
}

export function decodeConsistencyToken(token: unknown): StreamMark[] {
  return decode(token).marks;
}

/**
 * Where the primary's log stood once the token's write had committed (a store with replicas puts
 * it there), or undefined: a session read may use a replica that has replayed that far.
 */
export function sessionPositionOf(token: unknown): bigint | undefined {
  return decode(token).sessionPosition;
}

/** One token for several writes: each stream at the highest version any of them reached. */
export function mergeConsistencyTokens(tokens: readonly string[]): string {
  const decoded = tokens.map(decode);
  const positions = decoded.map((token) => token.sessionPosition);
  // A write without a position (no replicas) leaves the merged token without one: primary reads.
  const position =
    positions.length === 0 || positions.includes(undefined)
      ? undefined
      : positions.reduce((highest, next) => (next! > highest! ? next : highest), 0n);
  return encodeConsistencyToken(
    decoded.flatMap((token) => token.marks),
    position,
  );
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
