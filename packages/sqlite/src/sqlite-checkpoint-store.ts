import type { Checkpoint, CheckpointStore } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';

interface CheckpointRow {
  name: string;
  position: number;
  generation: number;
  updated_at: number;
}

/** Projection checkpoints, saved in the same transaction as the read model they describe. */
export function createSqliteCheckpointStore({ connection, tables }: SqliteStoreContext): CheckpointStore {
  return {
    load: (tx, name) =>
      connection.read(tx, (session): Checkpoint | null => {
        const row = session.get<CheckpointRow>(
          `SELECT position, generation FROM ${tables.checkpoints} WHERE name = ?`,
          [name],
        );
        return row === undefined ? null : { position: row.position, generation: row.generation };
      }),
    async save(tx, name, checkpoint, options = {}) {
      const { from } = options;
      // Writers take turns on SQLite: the saved checkpoint cannot change under this transaction.
      const { changes } = connection.join(tx).session.run(
        `INSERT INTO ${tables.checkpoints} (name, position, generation, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position, generation = excluded.generation,
           updated_at = excluded.updated_at${from ? ' WHERE position = ? AND generation = ?' : ''}`,
        [
          name,
          checkpoint.position,
          checkpoint.generation,
          Date.now(),
          ...(from ? [from.position, from.generation] : []),
        ],
      );
      return changes === 1;
    },
    list: () =>
      connection.read(null, (session) =>
        session
          .all<CheckpointRow>(
            `SELECT name, position, generation, updated_at FROM ${tables.checkpoints} ORDER BY name`,
          )
          .map((row) => ({
            name: row.name,
            position: row.position,
            generation: row.generation,
            updatedAt: new Date(row.updated_at).toISOString(),
          })),
      ),
    async delete(tx, name) {
      connection.join(tx).session.run(`DELETE FROM ${tables.checkpoints} WHERE name = ?`, [name]);
    },
  };
}
