import type { Snapshot, SnapshotStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import type { PostgresSchema } from './postgres-schema.ts';

interface SnapshotRow {
  stream_id: string;
  aggregate_type: string;
  stream_version: number;
  snapshot_version: number;
  subject_id: string | null;
  state: unknown;
  taken_at: Date;
}

function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    streamId: row.stream_id,
    aggregateType: row.aggregate_type,
    streamVersion: row.stream_version,
    snapshotVersion: row.snapshot_version,
    subjectId: row.subject_id,
    state: row.state,
    takenAt: row.taken_at.toISOString(),
  };
}

/** One snapshot per stream; a save at a lower stream version than the stored one is ignored. */
export function createPostgresSnapshotStore(
  connection: PostgresConnection,
  schema: PostgresSchema,
): SnapshotStore {
  const s = schema.sql;
  return {
    async load(tx, streamId) {
      const [row] = await (tx ?? connection).query<SnapshotRow>(
        `SELECT * FROM ${s}.snapshots WHERE stream_id = $1`,
        [streamId],
      );
      return row ? toSnapshot(row) : null;
    },
    async save(tx, snapshot) {
      await (tx ?? connection).execute(
        `INSERT INTO ${s}.snapshots AS current
           (stream_id, aggregate_type, stream_version, snapshot_version, subject_id, state, taken_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
         ON CONFLICT (stream_id) DO UPDATE
           SET aggregate_type = EXCLUDED.aggregate_type, stream_version = EXCLUDED.stream_version,
               snapshot_version = EXCLUDED.snapshot_version, subject_id = EXCLUDED.subject_id,
               state = EXCLUDED.state, taken_at = EXCLUDED.taken_at
         WHERE current.stream_version <= EXCLUDED.stream_version`,
        [
          snapshot.streamId,
          snapshot.aggregateType,
          snapshot.streamVersion,
          snapshot.snapshotVersion,
          snapshot.subjectId,
          JSON.stringify(snapshot.state ?? null),
          snapshot.takenAt,
        ],
      );
    },
    async deleteBySubject(tx, subjectId) {
      const { rowCount } = await tx.execute(`DELETE FROM ${s}.snapshots WHERE subject_id = $1`, [subjectId]);
      return rowCount;
    },
  };
}
