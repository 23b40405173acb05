/**
 * The shard map: which shards streams are spread over, kept durably and versioned in one store's
 * documents (the map store). Version n is the n-th change, and every version stays readable, so
 * the history of a deployment's shards is there to read. A change runs in one transaction that
 * checks the version it started from; on PostgreSQL it holds an advisory lock for that
 * transaction, as SQLite's writers already queue one behind the other, so two processes changing
 * the map at once cannot both win.
 */
import { ConcurrencyError, ConfigurationError } from '../errors/index.ts';
import type { Store, Transaction } from '../store/index.ts';

export interface ShardMap {
  readonly version: number;
  /** Every shard streams are spread over, by name, sorted. */
  readonly shards: readonly string[];
  /** A shard being added: the streams that hash to it are moving there (see shard moves). */
  readonly joining: string | null;
  readonly changedAt: string;
}

const collection = 'causeway:shard-map';
const current = 'current';

const shardNamePattern = /^[a-z][a-z0-9_-]{0,39}$/;

export function assertShardNames(shards: readonly string[]): void {
  if (shards.length === 0) throw new ConfigurationError('A sharded store needs at least one shard');
  for (const name of shards) {
    if (!shardNamePattern.test(name)) {
      throw new ConfigurationError(
        `Shard name ${JSON.stringify(name)} must match ${shardNamePattern}: it is stored in the shard map`,
      );
    }
  }
  if (new Set(shards).size !== shards.length) throw new ConfigurationError('Shard names must be unique');
}

export async function readShardMap(store: Store, tx: Transaction | null = null): Promise<ShardMap | null> {
  return store.documents.get<ShardMap>(tx, collection, current);
}

/** A version of the map as it was, or null if there never was such a version. */
export function readShardMapVersion(store: Store, version: number): Promise<ShardMap | null> {
  return store.documents.get<ShardMap>(null, collection, `v${version}`);
}

/**
 * Writes the next version of the map if the map is still at `expectedVersion` (0: no map yet);
 * ConcurrencyError otherwise. Answers the map written.
 */
export async function changeShardMap(
  store: Store,
  expectedVersion: number,
  next: { shards: readonly string[]; joining: string | null },
): Promise<ShardMap> {
  assertShardNames(next.shards);
  return store.transaction(async (tx) => {
    if (tx.storeName === 'postgres')
      await tx.execute('SELECT pg_advisory_xact_lock(hashtext($1))', [collection]);
    const found = await readShardMap(store, tx);
    const version = found?.version ?? 0;
    if (version !== expectedVersion) {
      // The map is a versioned record like a stream: the same conflict, the same remedy (read again).
      throw new ConcurrencyError(collection, expectedVersion, version);
    }
    const map: ShardMap = {
      version: version + 1,
      shards: [...next.shards].sort(),
      joining: next.joining,
      changedAt: new Date().toISOString(),
    };
    await store.documents.put(tx, collection, current, map);
    await store.documents.put(tx, collection, `v${map.version}`, map);
    return map;
  });
}
