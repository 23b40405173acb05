/**
 * An event store whose streams are spread over several stores (PostgreSQL databases or SQLite
 * files), each stream on the shard rendezvous hashing gives its id among the shard map's shards.
 * A stream lives on one shard, so everything promised per stream holds as on one store:
 * optimistic concurrency, idempotent event ids, order, snapshots, temporal reads.
 *
 * What spans shards is weaker, and says so: `readAll` merges the shards' global logs, in order
 * within each shard but not across them (no global position spans databases); a transaction (`tx`)
 * belongs to one shard, so an append inside one must go to a stream of that shard; forgetting a
 * subject destroys its key on every shard.
 */
import { ConfigurationError, InvalidArgumentError } from '../errors/index.ts';
import {
  type AppendOptions,
  type AppendOutcome,
  createEventStore,
  type EventStore,
  type ReadOptions,
} from '../event-store/index.ts';
import type { AnyEventDefinition, EventRegistry, MessageOf, NewMessageOf } from '../message/index.ts';
import type { GlobalCursor, Store } from '../store/index.ts';
import { rendezvousOwner } from './rendezvous.ts';
import { assertShardNames, changeShardMap, readShardMap, type ShardMap } from './shard-map.ts';

export interface ShardedEventStoreOptions<Definition extends AnyEventDefinition = AnyEventDefinition> {
  /** The shards by name (lower-case letters, digits, `_` and `-`): a store each. */
  shards: Readonly<Record<string, Store>>;
  registry: EventRegistry<Definition>;
  /** The shard whose store keeps the shard map (default: the first name in order). */
  mapShard?: string;
}

/** Where a merged read of the global logs stands: one cursor per shard. */
export type ShardedCursor = Readonly<Record<string, GlobalCursor>>;

export interface ShardSkew {
  shard: string;
  streams: number;
  events: number;
  /** This shard's part of all events (0 to 1). */
  share: number;
}

export interface SkewReport {
  shards: ShardSkew[];
  /** The fullest shard's events over the mean: 1 is perfectly even, 2 means one shard holds twice its part. */
  skew: number;
}

export interface ShardedEventStore<Definition extends AnyEventDefinition = AnyEventDefinition> {
  /** The shard map this process routes by. */
  readonly map: ShardMap;
  /** The shard a stream lives on. */
  shardOf(streamId: string): string;
  /** The event store of one shard (its projections, sagas and outbox run there). */
  shard(name: string): EventStore<Definition>;
  appendToStream(
    streamId: string,
    events: readonly NewMessageOf<Definition>[],
    options?: AppendOptions,
  ): Promise<AppendOutcome<MessageOf<Definition>>>;
  readStream(streamId: string, options?: ReadOptions): Promise<MessageOf<Definition>[]>;
  /**
   * Up to `limit` events of each shard after `cursor` (null: from the start), as one list in the
   * order they occurred. Ordered within a shard; across shards only as their clocks allow.
   */
  readAll(
    cursor: ShardedCursor | null,
    options: { limit: number },
  ): Promise<{ events: Array<{ shard: string; event: MessageOf<Definition> }>; cursor: ShardedCursor }>;
  forgetSubject(subjectId: string): Promise<void>;
  /** Streams and events per shard, and how uneven they are. */
  skew(): Promise<SkewReport>;
}

/**
 * Opens the sharded store. The first open writes the shard map (version 1); later opens must name
 * the same shards, or they would look for streams in the wrong places.
 */
export async function openShardedEventStore<Definition extends AnyEventDefinition = AnyEventDefinition>(
  options: ShardedEventStoreOptions<Definition>,
): Promise<ShardedEventStore<Definition>> {
  const names = Object.keys(options.shards).sort();
  assertShardNames(names);
  const mapShard = options.mapShard ?? names[0]!;
  const mapStore = options.shards[mapShard];
  if (!mapStore)
    throw new ConfigurationError(`mapShard ${mapShard} is not one of the shards (${names.join(', ')})`);
  const map = (await readShardMap(mapStore)) ?? (await createFirstMap(mapStore, names));
  if (map.shards.join(',') !== names.join(',')) {
    throw new ConfigurationError(
      `The shard map (version ${map.version}) names shards ${map.shards.join(', ')}, but ${names.join(', ')} were given: open the shards the map names, and add a shard with a shard move`,
      { map: map.shards, given: names },
    );
  }
  const eventStores = new Map(
    names.map((name) => [
      name,
      createEventStore({ store: options.shards[name]!, registry: options.registry }),
    ]),
  );
  const ownerOf = rendezvousOwner(map.shards);
  const shard = (name: string) => {
    const found = eventStores.get(name);
    if (!found)
      throw new InvalidArgumentError('shard', `No shard ${name}: the shards are ${names.join(', ')}`);
    return found;
  };
  const onShardOf = (streamId: string) => shard(ownerOf(streamId));

  return {
    map,
    shardOf: ownerOf,
    shard,
    appendToStream: (streamId, events, appendOptions) =>
      onShardOf(streamId).appendToStream(streamId, events, appendOptions),
    readStream: (streamId, readOptions) => onShardOf(streamId).readStream(streamId, readOptions),

    async readAll(cursor, { limit }) {
      const batches = await Promise.all(
        names.map(async (name) => {
          const batch = await shard(name).readAll(cursor?.[name] ?? { position: 0 }, { limit });
          return { name, batch };
        }),
      );
      const events = batches
        .flatMap(({ name, batch }) => batch.events.map((event) => ({ shard: name, event })))
        // Array sort is stable: within a shard, log order stays where clocks tie or step back.
        .sort((a, b) =>
          a.event.occurredAt < b.event.occurredAt ? -1 : a.event.occurredAt > b.event.occurredAt ? 1 : 0,
        );
      return { events, cursor: Object.fromEntries(batches.map(({ name, batch }) => [name, batch.cursor])) };
    },

    async forgetSubject(subjectId) {
      for (const name of names) await shard(name).forgetSubject(subjectId);
    },

    async skew() {
      const counts = await Promise.all(
        names.map(async (name) => ({ shard: name, ...(await options.shards[name]!.events.census()) })),
      );
      const total = counts.reduce((sum, { events }) => sum + events, 0);
      const shards = counts.map((count) => ({ ...count, share: total === 0 ? 0 : count.events / total }));
      const fullest = Math.max(...shards.map(({ share }) => share));
      return { shards, skew: total === 0 ? 1 : fullest * names.length };
    },
  };
}

async function createFirstMap(store: Store, shards: readonly string[]): Promise<ShardMap> {
  try {
    return await changeShardMap(store, 0, { shards, joining: null });
  } catch (error) {
    // Another process wrote the first version at the same moment: use it (the caller checks it).
    const written = await readShardMap(store);
    if (written) return written;
    throw error;
  }
}
