import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addShard, createEventRegistry, defineEvent, openShardedEventStore } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

// Three SQLite files here; PostgreSQL databases on their own servers where the load needs them.
const directory = mkdtempSync(join(tmpdir(), 'causeway-sharding-'));
const open = (name: string) => createSqliteStore({ filename: join(directory, `${name}.db`) });
const [s1, s2, s3] = [await open('s1'), await open('s2'), await open('s3')];
const registry = createEventRegistry([
  defineEvent({ type: 'bank.Deposited', schema: z.object({ cents: z.number().int() }) }),
]);

// #region sharded
// The first open writes the shard map: s1 and s2.
const sharded = await openShardedEventStore({ shards: { s1, s2 }, registry });
for (let i = 0; i < 30; i++) {
  await sharded.appendToStream(`account-${i}`, [{ type: 'bank.Deposited', data: { cents: 500 } }]);
}
console.log((await sharded.readStream('account-1')).length, sharded.map.version);
await sharded.close();

// Adding s3: first every process is given it (a deploy), then the streams that hash to it move,
// online, while those processes go on writing.
const writer = await openShardedEventStore({ shards: { s1, s2, s3 }, registry });
const added = await addShard({ shards: { s1, s2, s3 }, newShard: 's3' });
const { shards } = await writer.skew();
console.log(added.map.shards, added.streams === shards[2]?.streams);
// #endregion
await writer.close();
for (const store of [s1, s2, s3]) await store.close();
