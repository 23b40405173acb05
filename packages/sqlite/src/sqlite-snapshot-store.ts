import type { Snapshot, SnapshotStore } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';

interface SnapshotRow {
  stream_id: string;
  aggregate_type: string;
  stream_version: number;
  snapshot_version: number;
  subject_id: string | null;
  state: string;
  taken_at: string;
}

/** One snapshot per stream; a save never replaces a snapshot taken at a higher stream version. */
export function createSqliteSnapshotStore({ connection, tables }: SqliteStoreContext): SnapshotStore {
  return {
    load: (tx, streamId) =>
      connection.read(tx, (session) => {
        const row = session.get<SnapshotRow>(
          `SELECT stream_id, aggregate_type, stream_version, snapshot_version, subject_id, state, taken_at
           FROM ${tables.snapshots} WHERE stream_id = ?`,
          [streamId],
        );
        return row === undefined ? null : toSnapshot(row);
      }),
    save: (tx, snapshot) =>
      connection.write(tx, (own) => {
        own.session.run(
          `INSERT INTO ${tables.snapshots}
             (stream_id, aggregate_type, stream_version, snapshot_version, subject_id, state, taken_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (stream_id) DO UPDATE SET aggregate_type = excluded.aggregate_type,
             stream_version = excluded.stream_version, snapshot_version = excluded.snapshot_version,
             subject_id = excluded.subject_id, state = excluded.state, taken_at = excluded.taken_at
           WHERE excluded.stream_version >= ${tables.snapshots}.stream_version`,
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
      }),
    async deleteBySubject(tx, subjectId) {
      return connection
        .join(tx)
        .session.run(`DELETE FROM ${tables.snapshots} WHERE subject_id = ?`, [subjectId]).changes;
    },
  };
}

function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    streamId: row.stream_id,
    aggregateType: row.aggregate_type,
    streamVersion: row.stream_version,
    snapshotVersion: row.snapshot_version,
    subjectId: row.subject_id,
    state: JSON.parse(row.state) as unknown,
    takenAt: row.taken_at,
  };
}
