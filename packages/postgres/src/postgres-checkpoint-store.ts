import type { CheckpointStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

interface CheckpointRow {
  name: string;
  position: number;
  generation: number;
  updated_at: Date;
}

/** Projection checkpoints, saved in the projection's own transaction (exactly-once read models). */
export function createPostgresCheckpointStore(
  connection: PostgresConnection,
  schema: PostgresSchema,
): CheckpointStore {
  const s = schema.sql;
  const loadSql = prepared(`SELECT position, generation FROM ${s}.checkpoints WHERE name = $1`);
  const saveSql =
    prepared(`INSERT INTO ${s}.checkpoints (name, position, generation, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (name) DO UPDATE
           SET position = EXCLUDED.position, generation = EXCLUDED.generation, updated_at = now()`);
  // Read committed: a concurrent save holds the row; this one waits, then checks its new version.
  const saveFromSql =
    prepared(`INSERT INTO ${s}.checkpoints (name, position, generation, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (name) DO UPDATE
           SET position = EXCLUDED.position, generation = EXCLUDED.generation, updated_at = now()
         WHERE checkpoints.position = $4 AND checkpoints.generation = $5`);
  return {
    async load(tx, name) {
      const [row] = await (tx ?? connection).query<CheckpointRow>(loadSql, [name]);
      return row ? { position: row.position, generation: row.generation } : null;
    },
    async save(tx, name, checkpoint, options = {}) {
      const { from } = options;
      if (!from) {
        await tx.execute(saveSql, [name, checkpoint.position, checkpoint.generation]);
        return true;
      }
      const { rowCount } = await tx.execute(saveFromSql, [
        name,
        checkpoint.position,
        checkpoint.generation,
        from.position,
        from.generation,
      ]);
      return rowCount === 1;
    },
    async list() {
      const rows = await connection.query<CheckpointRow>(
        `SELECT name, position, generation, updated_at FROM ${s}.checkpoints ORDER BY name COLLATE "C"`,
      );
      return rows.map((row) => ({
        name: row.name,
        position: row.position,
        generation: row.generation,
        updatedAt: row.updated_at.toISOString(),
      }));
    },
    async delete(tx, name) {
      await tx.execute(`DELETE FROM ${s}.checkpoints WHERE name = $1`, [name]);
    },
  };
}
