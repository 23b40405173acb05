import { InvalidArgumentError } from '../errors/index.ts';

/** Partitions a transport spreads keys over unless configured otherwise. */
export const defaultPartitions = 16;

/**
 * The partition of an ordering key: FNV-1a (32 bit) of its UTF-8 bytes, modulo `partitions`.
 * Every transport uses this one function, so a key lands in the same partition everywhere.
 */
export function partitionOf(orderingKey: string, partitions: number = defaultPartitions): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new InvalidArgumentError(
      'partitions',
      `partitions must be an integer from 1 to 4096, got ${partitions}`,
    );
  }
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(orderingKey, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
