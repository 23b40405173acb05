/** The public shapes of read replicas, apart from the code that needs the driver's types. */

export interface PostgresReplica {
  connectionString: string;
  /** How reads and status name it (default `replica-1`, `replica-2`, ...). */
  name?: string;
}

export interface ReplicaStatus {
  name: string;
  reachable: boolean;
  /** How far its replay is behind the primary's log, in bytes (null: unreachable). */
  lagBytes: number | null;
  /** Time since the last transaction it replayed was committed on the primary (null: none yet, or unreachable). */
  lagMs: number | null;
  /** Replay paused by `pg_wal_replay_pause()`: it serves reads but falls further behind. */
  replayPaused: boolean | null;
  error?: string;
}
