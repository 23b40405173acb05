/**
 * Child process for the shard-move kill test.
 * - `writer`: 8 loops append to the test's streams through the sharded store given every shard,
 *   printing `sent <stream> <n>` before an append and `ack <stream> <n>` once it resolved; every
 *   fourth append is a command (read, then append at the version read), whose conflicts print
 *   `conflict <stream> <n>`.
 * - `mover`: adds shard s3, printing `moved <count>` as streams move and `done` at the end.
 * The parent kills the mover with SIGKILL at random moments and runs it again, while the writer writes.
 * Usage: shard-move-child <writer|mover> <sqlite|postgres> <directory|url>
 */
import { writeSync } from 'node:fs';
import { addShard, ConcurrencyError, openShardedEventStore } from '@causeway/core';
import { openShards, registry, streamIds } from './shard-move-shards.ts';

const [role, backend, location] = process.argv.slice(2);
const shards = await openShards(backend!, location!);
const say = (line: string) => writeSync(1, `${line}\n`);

if (role === 'mover') {
  await addShard({
    shards,
    newShard: 's3',
    readerTtlMs: 3_000,
    onProgress: ({ phase, moved }) => say(phase === 'moving' ? `moved ${moved}` : phase),
  });
  say('done');
  process.exit(0);
}

const store = await openShardedEventStore({ shards, registry, mapRefreshMs: 100, readerTtlMs: 3_000 });
let next = 0;

async function writer(slot: number): Promise<never> {
  for (let i = 0; ; i++) {
    const streamId = streamIds[(slot * 37 + i * 11) % streamIds.length]!;
    const n = next++;
    say(`sent ${streamId} ${n}`);
    if (i % 4 === 0) {
      const version = (await store.readStream(streamId)).length;
      try {
        await store.appendToStream(streamId, [{ type: 'test.Counted', data: { n } }], {
          expectedVersion: version,
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        say(`conflict ${streamId} ${n}`);
        continue;
      }
    } else {
      await store.appendToStream(streamId, [{ type: 'test.Counted', data: { n } }]);
    }
    say(`ack ${streamId} ${n}`);
  }
}

say('ready');
await Promise.all(Array.from({ length: 8 }, (_, slot) => writer(slot)));
