import { InvalidArgumentError } from '../errors/index.ts';

const prefix = 'cw1.';

/**
 * An opaque token naming a position in one store's global log. A read that presents it waits
 * until the read model has applied that position (read-your-writes).
 */
export function encodeConsistencyToken(position: number): string {
  return `${prefix}${position.toString(36)}`;
}

export function decodeConsistencyToken(token: unknown): number {
  if (typeof token === 'string' && token.startsWith(prefix)) {
    const position = Number.parseInt(token.slice(prefix.length), 36);
    if (Number.isSafeInteger(position) && position >= 0 && encodeConsistencyToken(position) === token)
      return position;
  }
  throw new InvalidArgumentError(
    'consistencyToken',
    `Consistency token ${JSON.stringify(token)} is malformed: pass back the token a write returned`,
  );
}
