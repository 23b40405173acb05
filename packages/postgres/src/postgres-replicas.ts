/**
 * Reads on streaming replicas (read-consistency.ts in core says what each consistency promises).
 * A session read waits, up to `sessionWaitMs`, for a replica whose `pg_last_wal_replay_lsn()` has
 * reached the token's position, else reads the primary; an eventual read takes the next replica
 * that answers. A replica that cannot be reached, or cancels a read because replay needed its rows,
 * is left out for a second and the read runs on the primary instead. Stream reads run on the
 * replica; the global log (`readAll`, `headPosition`) is read on the primary, whose transaction ids
 * prove its gaps final.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { StoreFailureError, type StoreReads } from '@causeway/core';
import { isUnavailableError } from './map-postgres-error.ts';
import { createPostgresCheckpointStore } from './postgres-checkpoint-store.ts';
import { createPostgresConnection, type PostgresConnection } from './postgres-connection.ts';
import { createPostgresDeadLetterStore } from './postgres-dead-letter-store.ts';
import { createPostgresDocumentStore } from './postgres-document-store.ts';
import { createPostgresEventLog } from './postgres-event-log.ts';
import type { PostgresReplica, ReplicaStatus } from './postgres-replica-types.ts';
import { createPostgresSagaStore } from './postgres-saga-store.ts';
import type { PostgresSchema } from './postgres-schema.ts';
import { createPostgresSnapshotStore } from './postgres-snapshot-store.ts';

interface Member {
  name: string;
  connection: PostgresConnection;
  reads: StoreReads;
  /** While a failure is recent, reads skip it. */
  downUntil: number;
}

const downForMs = 1_000;

/** Fails because of the replica, not the read: the primary can answer it. */
function isReplicaFailure(error: unknown): boolean {
  const cause = (error as { cause?: unknown }).cause ?? error;
  // 40001 on a standby: the read was cancelled by a conflict with recovery.
  return isUnavailableError(cause) || (cause as { code?: string }).code === '40001';
}

/**
 * A database, schema or table the replica does not have yet: it has not replayed their creation.
 * The primary answers (a read of something that exists nowhere fails there too).
 */
function isNotReplayedYet(error: unknown): boolean {
  const code = ((error as { cause?: unknown }).cause as { code?: string } | undefined)?.code;
  return code === '3D000' || code === '3F000' || code === '42P01';
}

export function createPostgresReplicas(options: {
  replicas: readonly PostgresReplica[];
  schemaName: string;
  schema: PostgresSchema;
  poolSize: number;
  primary: StoreReads;
  primaryConnection: PostgresConnection;
  sessionWaitMs: number;
}) {
  const { schema, primary } = options;
  const members: Member[] = options.replicas.map((replica, index) => {
    const name = replica.name ?? `replica-${index + 1}`;
    const connection = createPostgresConnection({
      connectionString: replica.connectionString,
      schema: options.schemaName,
      poolSize: options.poolSize,
      connectTimeoutMs: 2_000,
    });
    const events = createPostgresEventLog(connection, schema, () => {}, { current: null });
    const reads: StoreReads = {
      from: name,
      transaction: (work) => connection.transaction(work),
      events: {
        ...primary.events,
        streamVersion: events.streamVersion,
        readStream: events.readStream,
        readByCorrelation: events.readByCorrelation,
        census: events.census,
      },
      documents: createPostgresDocumentStore(connection, schema),
      snapshots: createPostgresSnapshotStore(connection, schema),
      checkpoints: createPostgresCheckpointStore(connection, schema),
      sagas: createPostgresSagaStore(connection, schema),
      deadLetters: createPostgresDeadLetterStore(connection, schema),
    };
    return { name, connection, reads, downUntil: 0 };
  });
  let next = 0;

  const available = () => members.filter((member) => member.downUntil <= Date.now());
  /** The replicas that answer, starting one further each call (round robin). */
  const inTurn = () => {
    const up = available();
    next = (next + 1) % Math.max(1, up.length);
    return [...up.slice(next), ...up.slice(0, next)];
  };
  /** Where the primary's log stands now, in bytes since its start. */
  async function primaryPosition(): Promise<bigint> {
    const [row] = await options.primaryConnection.query<{ position: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS position`,
    );
    return BigInt(row!.position);
  }

  async function replayedPosition(member: Member): Promise<bigint> {
    const [row] = await member.connection.query<{ replayed: string | null }>(
      `SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::text AS replayed`,
    );
    if (row?.replayed == null) {
      throw new StoreFailureError(
        'postgres',
        `${member.name} is not a standby (pg_last_wal_replay_lsn() is null)`,
      );
    }
    return BigInt(row.replayed);
  }

  /** A replica that has replayed `position` within the wait, or undefined. */
  async function caughtUp(position: bigint): Promise<Member | undefined> {
    const deadline = Date.now() + options.sessionWaitMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      for (const member of inTurn()) {
        try {
          if ((await replayedPosition(member)) >= position) return member;
        } catch {
          member.downUntil = Date.now() + downForMs;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0 || available().length === 0) return undefined;
      await pause(Math.min(wait, left));
    }
  }

  async function onReplica<T>(member: Member, work: (reads: StoreReads) => Promise<T>): Promise<T> {
    try {
      return await work(member.reads);
    } catch (error) {
      if (isNotReplayedYet(error)) return work(primary);
      if (!isReplicaFailure(error)) throw error;
      member.downUntil = Date.now() + downForMs;
      return work(primary);
    }
  }

  return {
    async read<T>(
      consistency: 'strong' | 'session' | 'eventual',
      sessionTarget: bigint | undefined,
      work: (reads: StoreReads) => Promise<T>,
    ): Promise<T> {
      if (consistency === 'strong' || members.length === 0) return work(primary);
      if (consistency === 'session' && sessionTarget !== undefined) {
        const member = await caughtUp(sessionTarget);
        return member ? onReplica(member, work) : work(primary);
      }
      const [member] = inTurn();
      return member ? onReplica(member, work) : work(primary);
    },

    sessionPosition: primaryPosition,

    async status(): Promise<ReplicaStatus[]> {
      const primaryAt = await primaryPosition();
      return Promise.all(
        members.map(async (member): Promise<ReplicaStatus> => {
          try {
            const [row] = await member.connection.query<{
              replayed: string;
              lag_ms: number | null;
              paused: boolean;
            }>(
              `SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::text AS replayed,
                      (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS lag_ms,
                      pg_is_wal_replay_paused() AS paused`,
            );
            const behind = primaryAt - BigInt(row!.replayed);
            return {
              name: member.name,
              reachable: true,
              lagBytes: Number(behind > 0n ? behind : 0n),
              lagMs: row!.lag_ms === null ? null : Math.max(0, Math.round(row!.lag_ms)),
              replayPaused: row!.paused,
            };
          } catch (error) {
            return {
              name: member.name,
              reachable: false,
              lagBytes: null,
              lagMs: null,
              replayPaused: null,
              error: error instanceof Error ? error.message : String(error),
            };
          }
        }),
      );
    },

    async close() {
      await Promise.all(members.map((member) => member.connection.close()));
    },
  };
}
