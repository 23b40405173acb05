import { setTimeout } from 'node:timers/promises';
import type { AnyEventDefinition, MessageOf, ShardedCursor, ShardedEventStore } from '@causeway/core';

/**
 * The whole merged log of a sharded store, read from the start in pages of `limit` per shard,
 * waiting out a shard held at a gap (on PostgreSQL, a rolled-back append leaves one until every
 * older transaction on the server has ended).
 */
export async function readMergedLog<Definition extends AnyEventDefinition>(
  sharded: ShardedEventStore<Definition>,
  limit: number,
): Promise<Array<{ shard: string; event: MessageOf<Definition> }>> {
  const all: Array<{ shard: string; event: MessageOf<Definition> }> = [];
  let cursor: ShardedCursor | null = null;
  for (;;) {
    const batch: Awaited<ReturnType<typeof sharded.readAll>> = await sharded.readAll(cursor, { limit });
    cursor = batch.cursor;
    if (batch.events.length === 0 && batch.heldBack === undefined) return all;
    if (batch.events.length === 0) await setTimeout(20);
    all.push(...batch.events);
  }
}
