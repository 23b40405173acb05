export { type AddShardOptions, type AddShardResult, addShard } from './add-shard.ts';
export { rendezvousOwner } from './rendezvous.ts';
export { readShardMap, readShardMapVersion, type ShardMap } from './shard-map.ts';
export {
  openShardedEventStore,
  type ShardedCursor,
  type ShardedEventStore,
  type ShardedEventStoreOptions,
  type ShardSkew,
  type SkewReport,
} from './sharded-event-store.ts';
