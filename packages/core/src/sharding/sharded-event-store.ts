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
 *
 * Each process reads the map again every `mapRefreshMs` and says which version it routes by (a
 * heartbeat in the map shard). A shard move waits until every live process routes by the move's
 * version before it fences a stream, and a process that could not read the map for half of
 * `readerTtlMs` reads it before its next append, so no process writes by a map it should not.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, ConfigurationError, InvalidArgumentError } from '../errors/index.ts';
import {
  type AppendOptions,
  type AppendOutcome,
  createEventStore,
  type EventStore,
} from '../event-store/index.ts';
import type { AnyEventDefinition, EventRegistry, MessageOf, NewMessageOf } from '../message/index.ts';
import type { GlobalBatch, GlobalCursor, Store } from '../store/index.ts';
import { rendezvousOwner } from './rendezvous.ts';
import { assertShardNames, changeShardMap, readShardMap, type ShardMap } from './shard-map.ts';
import { isMoveMarker, lastEventOf, movedFromKey } from './stream-move.ts';

export interface ShardedEventStoreOptions<Definition extends AnyEventDefinition = AnyEventDefinition> {
  /**
   * Every shard of the map, by name (lower-case letters, digits, `_` and `-`): a store each. A
   * shard about to be added may be given before the map names it. The first open writes the map
   * with every shard given.
   */
  shards: Readonly<Record<string, Store>>;
  registry: EventRegistry<Definition>;
  /** The shard whose store keeps the shard map (default: the first name in order). */
  mapShard?: string;
  /** How often the map is read again and this process's heartbeat written (default 1,000 ms). */
  mapRefreshMs?: number;
  /** How long a heartbeat counts a process as alive for a shard move (default 10,000 ms). */
  readerTtlMs?: number;
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

/** Appends and stream reads as on one event store, each on the stream's shard. */
export interface ShardedEventStore<Definition extends AnyEventDefinition = AnyEventDefinition>
  extends Pick<EventStore<Definition>, 'appendToStream' | 'readStream'> {
  /** The shard map this process routes by now. */
  readonly map: ShardMap;
  /** The shard a stream lives on (by the map; while a shard joins, a moving stream may still be on its old shard). */
  shardOf(streamId: string): string;
  /** The event store of one shard (its projections, sagas and outbox run there). */
  shard(name: string): EventStore<Definition>;
  /**
   * Up to `limit` events of each shard after `cursor` (null: from the start), as one list in the
   * order they occurred: every event once, ordered within a shard, across shards only as their
   * clocks allow. A moved stream's history is read where it was first written. An empty list
   * without `heldBack` means every shard has been read to its end; with it, a shard waits at a gap
   * an unfinished transaction may still fill (see `GlobalBatch`): read again later.
   */
  readAll(
    cursor: ShardedCursor | null,
    options: { limit: number },
  ): Promise<{
    events: Array<{ shard: string; event: MessageOf<Definition> }>;
    cursor: ShardedCursor;
    /** The shard held back longest at a gap, if any: for how long, and why. */
    heldBack?: { shard: string; ms: number; reason?: string };
  }>;
  forgetSubject(subjectId: string): Promise<void>;
  /** Streams and events per shard as stored (a moved stream's old copy counts where it stays), and how uneven. */
  skew(): Promise<SkewReport>;
  /** Reads the map now (it is read every `mapRefreshMs` anyway). */
  refreshMap(): Promise<ShardMap>;
  /** Stops the refreshes and withdraws this process's heartbeat. */
  close(): Promise<void>;
}

export const shardMapReaders = 'causeway:shard-map-readers';

export interface ShardMapReader {
  version: number;
  /** Ms since the epoch, by the reader's clock. */
  seenAt: number;
}

/** The map, with its routing: a stream's shard, and while a shard joins, where a moving stream comes from. */
function routingOf(map: ShardMap) {
  const ownerOf = rendezvousOwner(map.shards);
  const before = map.joining ? rendezvousOwner(map.shards.filter((name) => name !== map.joining)) : ownerOf;
  return {
    map,
    ownerOf,
    placement(streamId: string): { home: string; movingFrom?: string } {
      const home = ownerOf(streamId);
      return home === map.joining ? { home, movingFrom: before(streamId) } : { home };
    },
  };
}

/**
 * Opens the sharded store. The first open writes the shard map (version 1); later opens must give
 * every shard the map names, and may give one it will name after a move.
 */
export async function openShardedEventStore<Definition extends AnyEventDefinition = AnyEventDefinition>(
  options: ShardedEventStoreOptions<Definition>,
): Promise<ShardedEventStore<Definition>> {
  const given = Object.keys(options.shards).sort();
  assertShardNames(given);
  const mapShard = options.mapShard ?? given[0]!;
  const mapStore = options.shards[mapShard];
  if (!mapStore)
    throw new ConfigurationError(`mapShard ${mapShard} is not one of the shards (${given.join(', ')})`);
  const mapRefreshMs = options.mapRefreshMs ?? 1_000;
  const readerTtlMs = options.readerTtlMs ?? 10_000;
  const readerId = randomUUID();

  // A shard given that the map does not name yet waits there for the move that adds it.
  const checked = (map: ShardMap) => {
    const missing = map.shards.filter((name) => !given.includes(name));
    if (missing.length > 0) {
      throw new ConfigurationError(
        `The shard map (version ${map.version}) names shard(s) ${missing.join(', ')}, which this process was not given (it has ${given.join(', ')}): open it with every shard the map names`,
        { map: map.shards, given },
      );
    }
    return map;
  };
  let routing = routingOf(checked((await readShardMap(mapStore)) ?? (await createFirstMap(mapStore, given))));
  let refreshedAt = Date.now();
  let refreshError: unknown;

  async function refreshMap(): Promise<ShardMap> {
    const map = await readShardMap(mapStore!);
    if (map && map.version !== routing.map.version) {
      try {
        routing = routingOf(checked(map));
        refreshError = undefined;
      } catch (error) {
        // Keep routing by the old map and say so at each append; the heartbeat keeps the old
        // version, so a move waits for this process (and names it) instead of going on without it.
        refreshError = error;
      }
    }
    await mapStore!.transaction((tx) =>
      mapStore!.documents.put(tx, shardMapReaders, readerId, {
        version: routing.map.version,
        seenAt: Date.now(),
      } satisfies ShardMapReader),
    );
    refreshedAt = Date.now();
    return routing.map;
  }
  await refreshMap();
  const timer = setInterval(() => refreshMap().catch(() => {}), mapRefreshMs);
  timer.unref();

  /** The routing to write by: read again first when this process has not seen the map for a while. */
  async function routingToWrite() {
    if (Date.now() - refreshedAt > readerTtlMs / 2) await refreshMap();
    if (refreshError) throw refreshError;
    return routing;
  }

  const eventStores = new Map(
    given.map((name) => [
      name,
      createEventStore({ store: options.shards[name]!, registry: options.registry }),
    ]),
  );
  const shard = (name: string) => {
    const found = eventStores.get(name);
    if (!found)
      throw new InvalidArgumentError('shard', `No shard ${name}: the shards are ${given.join(', ')}`);
    return found;
  };
  const storeOf = (name: string) => options.shards[name]!;

  /**
   * An append to a stream that may still be on its old shard: there it names the version it read,
   * so it fails once the move's marker is in, and then goes to the new shard.
   */
  async function appendWhileMoving(
    from: string,
    home: string,
    streamId: string,
    events: readonly NewMessageOf<Definition>[],
    appendOptions: AppendOptions = {},
  ): Promise<AppendOutcome<MessageOf<Definition>>> {
    if (appendOptions.tx) {
      throw new InvalidArgumentError(
        'tx',
        `Stream ${streamId} is moving from shard ${from} to ${home}: append it without a transaction until the move ends`,
      );
    }
    const asked = appendOptions.expectedVersion ?? 'any';
    for (let attempt = 1; ; attempt++) {
      const last = await lastEventOf(storeOf(from), streamId);
      if (!last || isMoveMarker(last)) return shard(home).appendToStream(streamId, events, appendOptions);
      if (asked === 'noStream') throw new ConcurrencyError(streamId, asked, last.streamPosition);
      const expectedVersion = typeof asked === 'number' ? asked : last.streamPosition;
      try {
        return await shard(from).appendToStream(streamId, events, { ...appendOptions, expectedVersion });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 100) throw error;
        // The caller's own version that is wrong stays wrong, unless the stream moved meanwhile.
        if (typeof asked === 'number' && !isMoveMarker(await lastEventOf(storeOf(from), streamId)))
          throw error;
      }
    }
  }

  return {
    get map() {
      return routing.map;
    },
    shardOf: (streamId) => routing.ownerOf(streamId),
    shard,
    async appendToStream(streamId, events, appendOptions) {
      const { home, movingFrom } = (await routingToWrite()).placement(streamId);
      if (movingFrom === undefined) return shard(home).appendToStream(streamId, events, appendOptions);
      return appendWhileMoving(movingFrom, home, streamId, events, appendOptions);
    },
    async readStream(streamId, readOptions) {
      const { home, movingFrom } = routing.placement(streamId);
      if (movingFrom === undefined) return shard(home).readStream(streamId, readOptions);
      const last = await lastEventOf(storeOf(movingFrom), streamId);
      if (!last || isMoveMarker(last)) return shard(home).readStream(streamId, readOptions);
      const events = await shard(movingFrom).readStream(streamId, readOptions);
      return events.filter((event) => !isMoveMarker(event));
    },

    async readAll(cursor, { limit }) {
      const names = routing.map.shards;
      let from = cursor;
      // A page may hold only move markers and copies: read on, so that an empty answer means an end.
      for (;;) {
        const batches = await Promise.all(
          names.map(async (name) => {
            const batch = await shard(name).readAll(from?.[name] ?? { position: 0 }, { limit });
            return { name, batch };
          }),
        );
        from = Object.fromEntries(batches.map(({ name, batch }) => [name, batch.cursor]));
        const events = batches
          .flatMap(({ name, batch }) => batch.events.map((event) => ({ shard: name, event })))
          // A move's marker, and its copies (read from their old shard already), are not events of the log.
          .filter(({ event }) => !isMoveMarker(event) && event.metadata[movedFromKey] === undefined)
          // Array sort is stable: within a shard, log order stays where clocks tie or step back.
          .sort((a, b) =>
            a.event.occurredAt < b.event.occurredAt ? -1 : a.event.occurredAt > b.event.occurredAt ? 1 : 0,
          );
        const readNothing = batches.every(({ batch }) => batch.events.length === 0);
        if (events.length > 0 || readNothing) return { events, cursor: from, ...heldBackOf(batches) };
      }
    },

    async forgetSubject(subjectId) {
      for (const name of routing.map.shards) await shard(name).forgetSubject(subjectId);
    },

    async skew() {
      const names = routing.map.shards;
      const counts = await Promise.all(
        names.map(async (name) => ({ shard: name, ...(await storeOf(name).events.census()) })),
      );
      const total = counts.reduce((sum, { events }) => sum + events, 0);
      const shards = counts.map((count) => ({ ...count, share: total === 0 ? 0 : count.events / total }));
      const fullest = Math.max(...shards.map(({ share }) => share));
      return { shards, skew: total === 0 ? 1 : fullest * names.length };
    },

    refreshMap,

    async close() {
      clearInterval(timer);
      await mapStore
        .transaction((tx) => mapStore.documents.delete(tx, shardMapReaders, readerId))
        .catch(() => {});
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

/** The shard held back longest at a gap, if any (a hold just taken may be 0 ms old). */
function heldBackOf(batches: Array<{ name: string; batch: Omit<GlobalBatch, 'events'> }>) {
  const held = batches.filter(({ batch }) => batch.cursor.hold !== undefined);
  if (held.length === 0) return {};
  const longest = held.reduce((a, b) => (b.batch.heldBackMs > a.batch.heldBackMs ? b : a));
  const { heldBackMs, heldBackReason } = longest.batch;
  return {
    heldBack: { shard: longest.name, ms: heldBackMs, ...(heldBackReason ? { reason: heldBackReason } : {}) },
  };
}
