import { ConfigurationError, InvalidArgumentError } from '@causeway/core';

/** Where a destination's messages live in JetStream, and what a group's consumers are called. */
export interface NatsNames {
  /** The stream holding every partition of a destination: `<prefix>_<destination>`. */
  streamName(destination: string): string;
  /** The subject of one partition: `<prefix>.<destination>.<partition>`. */
  subject(destination: string, partition: number): string;
  /** The subjects a destination's stream captures: `<prefix>.<destination>.*`. */
  streamSubject(destination: string): string;
  /** The durable consumer of one partition for a group, unique within its stream. */
  consumerName(group: string, partition: number): string;
}

const prefixPattern = /^[A-Za-z0-9_-]+$/;
// One or more subject tokens: no whitespace, no wildcards, no empty tokens.
const destinationPattern = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

export function createNatsNames(prefix: string): NatsNames {
  if (!prefixPattern.test(prefix)) {
    throw new ConfigurationError(
      `NATS stream prefix "${prefix}" is invalid: use letters, digits, "_" or "-" (one subject token)`,
      { streamPrefix: prefix },
    );
  }
  return {
    streamName: (destination) => `${prefix}_${toNatsName(checkDestination(destination))}`,
    subject: (destination, partition) => `${prefix}.${checkDestination(destination)}.${partition}`,
    streamSubject: (destination) => `${prefix}.${checkDestination(destination)}.*`,
    consumerName: (group, partition) => `${toNatsName(checkGroup(group))}_p${partition}`,
  };
}

function checkDestination(destination: string): string {
  if (!destinationPattern.test(destination)) {
    throw new InvalidArgumentError(
      'destination',
      `Destination "${destination}" is not a valid NATS subject: use dot-separated tokens without spaces, "*" or ">"`,
      { destination },
    );
  }
  return destination;
}

function checkGroup(group: string): string {
  if (group.length === 0) throw new InvalidArgumentError('group', 'The consumer group must not be empty');
  return group;
}

/**
 * A stream or consumer name for any string. Dots become "_" (names cannot hold them); a name
 * with any other character outside [A-Za-z0-9-] also gets a hash of the original, so that
 * `orders.events` and `orders_events` never share a stream, nor `a.b` and `a_b` a consumer.
 */
export function toNatsName(value: string): string {
  const simple = value.replaceAll('.', '_');
  if (/^[A-Za-z0-9_-]+$/.test(simple) && !value.includes('_')) return simple;
  return `${simple.replace(/[^A-Za-z0-9_-]/g, '_')}_${fnv1a(value).toString(16).padStart(8, '0')}`;
}

function fnv1a(value: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(value, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
