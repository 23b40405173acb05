/**
 * Adds a shard online. The map's next version names the new shard as joining; once every live
 * process routes by it (their heartbeats say so), each stream that now hashes to the new shard is
 * copied there, caught up and fenced on its old shard (stream-move.ts) while writers keep writing;
 * then the map's next version ends the join. Streams that do not hash to the new shard are never
 * touched. Killed at any point, `addShard` run again picks the move up where the map and the
 * streams' markers say it stopped.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { ConfigurationError, WaitTimeoutError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { rendezvousOwner } from './rendezvous.ts';
import { changeShardMap, readShardMap, type ShardMap } from './shard-map.ts';
import { type ShardMapReader, shardMapReaders } from './sharded-event-store.ts';
import { moveStream } from './stream-move.ts';

export interface AddShardOptions {
  /** Every shard of the map and the new one, by name. */
  shards: Readonly<Record<string, Store>>;
  newShard: string;
  /** The shard whose store keeps the map (default: the first name of the map's shards). */
  mapShard?: string;
  /** How long a heartbeat counts a process as alive (as the processes were opened with; default 10,000 ms). */
  readerTtlMs?: number;
  /** How long to wait for the live processes to route by the joining map (default 60,000 ms). */
  waitForReadersMs?: number;
  onProgress?(progress: {
    phase: 'waiting' | 'scanning' | 'moving' | 'done';
    streams: number;
    moved: number;
  }): void;
}

export interface AddShardResult {
  map: ShardMap;
  /** Streams moved to the new shard by this run (a resumed run counts only its own). */
  streams: number;
  /** Events copied by this run. */
  events: number;
}

export async function addShard(options: AddShardOptions): Promise<AddShardResult> {
  const { newShard, shards } = options;
  const names = Object.keys(shards).sort();
  const mapStore = shards[options.mapShard ?? names.filter((name) => name !== newShard)[0]!];
  if (!mapStore || !shards[newShard]) {
    throw new ConfigurationError(`addShard needs the map's shards and ${newShard} (got ${names.join(', ')})`);
  }
  let map = await readShardMap(mapStore);
  if (!map) throw new ConfigurationError('There is no shard map yet: open the sharded store first');
  if (map.joining !== null && map.joining !== newShard) {
    throw new ConfigurationError(`Shard ${map.joining} is joining: finish that move (addShard again) first`);
  }
  if (map.joining === null) {
    if (map.shards.includes(newShard)) return { map, streams: 0, events: 0 };
    map = await changeShardMap(mapStore, map.version, {
      shards: [...map.shards, newShard],
      joining: newShard,
    });
  }
  const missing = map.shards.filter((name) => !shards[name]);
  if (missing.length > 0)
    throw new ConfigurationError(`addShard was not given shard(s) ${missing.join(', ')}`);

  const progress = { streams: 0, moved: 0 };
  options.onProgress?.({ phase: 'waiting', ...progress });
  await waitForReaders(
    mapStore,
    map.version,
    options.readerTtlMs ?? 10_000,
    options.waitForReadersMs ?? 60_000,
  );

  const ownerOf = rendezvousOwner(map.shards);
  const oldShards = map.shards.filter((name) => name !== newShard);
  options.onProgress?.({ phase: 'scanning', ...progress });
  const moving = new Map<string, string>();
  for (const name of oldShards) {
    for (const streamId of await streamsOf(shards[name]!)) {
      if (ownerOf(streamId) === newShard) moving.set(streamId, name);
    }
  }
  progress.streams = moving.size;
  let events = 0;
  for (const [streamId, from] of moving) {
    events += await moveStream(
      { name: from, store: shards[from]! },
      { name: newShard, store: shards[newShard]! },
      streamId,
    );
    progress.moved += 1;
    options.onProgress?.({ phase: 'moving', ...progress });
  }
  map = await changeShardMap(mapStore, map.version, { shards: map.shards, joining: null });
  options.onProgress?.({ phase: 'done', ...progress });
  return { map, streams: moving.size, events };
}

/** Waits until every process that heartbeated within `ttlMs` routes by `version` or later. */
async function waitForReaders(store: Store, version: number, ttlMs: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const readers = await store.documents.find<ShardMapReader>(null, shardMapReaders, { limit: 10_000 });
    const now = Date.now();
    const behind = readers.filter(
      ({ document }) => document.seenAt > now - ttlMs && document.version < version,
    );
    if (behind.length === 0) return;
    if (now > deadline) {
      throw new WaitTimeoutError(
        `${behind.length} process(es) still route by an older shard map than version ${version} after ${timeoutMs} ms (e.g. ${behind[0]!.id} at version ${behind[0]!.document.version}): give them the new shard, or stop them`,
        { behind: behind.map(({ id, document }) => ({ id, ...document })) },
      );
    }
    await pause(100);
  }
}

/** Every stream id in a shard's log (scanned once, in pages). */
async function streamsOf(store: Store): Promise<Set<string>> {
  const streams = new Set<string>();
  const head = await store.events.headPosition();
  let cursor = { position: 0 } as Parameters<Store['events']['readAll']>[0];
  while (cursor.position < head) {
    const batch = await store.events.readAll(cursor, { limit: 1_000 });
    for (const event of batch.events) streams.add(event.streamId);
    // Held at a gap behind a running transaction: it ends soon, and its events are needed too.
    if (batch.events.length === 0) await pause(20);
    cursor = batch.cursor;
  }
  return streams;
}
