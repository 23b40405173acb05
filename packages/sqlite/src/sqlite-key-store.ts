import type { KeyStore } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';

interface KeyRow {
  subject_id: string;
  key: Buffer | null;
}

/**
 * Per-subject keys for crypto-shredding. A destroyed key is first overwritten in place and then
 * set NULL; with `secure_delete = ON`, SQLite also zeroes the space it frees, so the key bytes do
 * not survive in the database file after a checkpoint.
 */
export function createSqliteKeyStore({ connection, tables }: SqliteStoreContext): KeyStore {
  return {
    getKeys: (tx, subjectIds) =>
      connection.read(tx, (session) => {
        const rows = session.all<KeyRow>(
          `SELECT subject_id, key FROM ${tables.subjectKeys} WHERE subject_id IN (SELECT value FROM json_each(?))`,
          [JSON.stringify(subjectIds)],
        );
        return new Map(rows.map((row) => [row.subject_id, row.key]));
      }),
    getOrCreateKey: (tx, subjectId, key) =>
      connection.write(tx, (own) => {
        own.session.run(
          `INSERT INTO ${tables.subjectKeys} (subject_id, key, created_at) VALUES (?, ?, ?)
           ON CONFLICT (subject_id) DO NOTHING`,
          [subjectId, key, Date.now()],
        );
        const row = own.session.get<KeyRow>(
          `SELECT subject_id, key FROM ${tables.subjectKeys} WHERE subject_id = ?`,
          [subjectId],
        );
        return row?.key ?? null;
      }),
    async destroyKey(tx, subjectId) {
      const session = connection.join(tx).session;
      const now = Date.now();
      // Zeros first, in place, so the page that held the key is rewritten before the row changes size.
      const { changes } = session.run(
        `UPDATE ${tables.subjectKeys} SET key = zeroblob(length(key)) WHERE subject_id = ? AND key IS NOT NULL`,
        [subjectId],
      );
      session.run(
        `UPDATE ${tables.subjectKeys} SET key = NULL, destroyed_at = ? WHERE subject_id = ? AND key IS NOT NULL`,
        [now, subjectId],
      );
      // A subject forgotten before it ever had a key still gets a tombstone: no key may be made later.
      session.run(
        `INSERT INTO ${tables.subjectKeys} (subject_id, key, created_at, destroyed_at) VALUES (?, NULL, ?, ?)
         ON CONFLICT (subject_id) DO NOTHING`,
        [subjectId, now, now],
      );
      return changes > 0;
    },
  };
}
