export { rendezvousOwner } from './rendezvous.ts';
export { readShardMap, readShardMapVersion, type ShardMap } from './shard-map.ts';
export * from './sharded-event-store.ts';
