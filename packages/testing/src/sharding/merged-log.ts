import type { AnyEventDefinition, MessageOf, ShardedCursor, ShardedEventStore } from '@causeway/core';

/** The whole merged log of a sharded store, read from the start in pages of `limit` per shard. */
export async function readMergedLog<Definition extends AnyEventDefinition>(
  sharded: ShardedEventStore<Definition>,
  limit: number,
): Promise<Array<{ shard: string; event: MessageOf<Definition> }>> {
  const all: Array<{ shard: string; event: MessageOf<Definition> }> = [];
  let cursor: ShardedCursor | null = null;
  for (;;) {
    const batch: Awaited<ReturnType<typeof sharded.readAll>> = await sharded.readAll(cursor, { limit });
    cursor = batch.cursor;
    if (batch.events.length === 0) return all;
    all.push(...batch.events);
  }
}
