import type { KeyStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import type { PostgresSchema } from './postgres-schema.ts';

/**
 * Per-subject keys for crypto-shredding; a destroyed key leaves a tombstone (key NULL,
 * destroyed_at set) so that a forgotten subject never gets a new key.
 */
export function createPostgresKeyStore(connection: PostgresConnection, schema: PostgresSchema): KeyStore {
  const s = schema.sql;
  return {
    async getKeys(tx, subjectIds) {
      const keys = new Map<string, Buffer | null>();
      if (subjectIds.length === 0) return keys;
      const rows = await (tx ?? connection).query<{ subject_id: string; key: Buffer | null }>(
        `SELECT subject_id, key FROM ${s}.subject_keys WHERE subject_id = ANY ($1::text[])`,
        [subjectIds],
      );
      for (const row of rows) keys.set(row.subject_id, row.key);
      return keys;
    },
    async getOrCreateKey(tx, subjectId, key) {
      const database = tx ?? connection;
      // DO NOTHING, not DO UPDATE: an update would write one more copy of the key to disk.
      await database.execute(
        `INSERT INTO ${s}.subject_keys (subject_id, key) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING`,
        [subjectId, key],
      );
      const [row] = await database.query<{ key: Buffer | null }>(
        `SELECT key FROM ${s}.subject_keys WHERE subject_id = $1`,
        [subjectId],
      );
      return row?.key ?? null;
    },
    async destroyKey(tx, subjectId) {
      // Zeros first, then NULL: the live row never holds the key again. PostgreSQL keeps older
      // tuple versions (with the key) until VACUUM reclaims them, and the WAL keeps it until the
      // segment is recycled (and in any archive or base backup); hard erasure needs a KMS KeyStore.
      const { rowCount } = await tx.execute(
        `UPDATE ${s}.subject_keys SET key = decode(repeat('00', length(key)), 'hex')
          WHERE subject_id = $1 AND key IS NOT NULL`,
        [subjectId],
      );
      await tx.execute(
        `INSERT INTO ${s}.subject_keys (subject_id, key, destroyed_at) VALUES ($1, NULL, now())
         ON CONFLICT (subject_id) DO UPDATE SET key = NULL, destroyed_at = coalesce(subject_keys.destroyed_at, now())`,
        [subjectId],
      );
      return rowCount === 1;
    },
  };
}
