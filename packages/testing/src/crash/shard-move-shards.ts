/**
 * The shards of the shard-move kill test, opened the same way by the test and its children: three
 * SQLite files in a directory, or three schemas of one PostgreSQL database.
 */
import { createEventRegistry, defineEvent, type Store } from '@causeway/core';
import { z } from 'zod';

export const shardNames = ['s1', 's2', 's3'] as const;
export const registry = createEventRegistry([
  defineEvent({ type: 'test.Counted', schema: z.object({ n: z.number().int() }) }),
]);
export const streamIds = Array.from({ length: 300 }, (_, i) => `tally-${i}`);

export async function openShards(backend: string, location: string): Promise<Record<string, Store>> {
  const shards: Record<string, Store> = {};
  for (const name of shardNames) {
    shards[name] =
      backend === 'sqlite'
        ? await (await import('@causeway/sqlite')).createSqliteStore({ filename: `${location}/${name}.db` })
        : await (await import('@causeway/postgres')).createPostgresStore({
            connectionString: location,
            schema: `move_${name}`,
          });
  }
  return shards;
}
