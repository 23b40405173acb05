import { type DocumentStore, InvalidArgumentError } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';
import { memoizeByRowCount, powerOfTwoBatches, valuesPlaceholders } from './sqlite-row-batches.ts';
import type { SqliteTables } from './sqlite-schema.ts';

type FindOptions = { where?: Record<string, string | number | boolean>; limit?: number; afterId?: string };

/** JSON documents in named collections, stored as TEXT and matched with SQLite's JSON functions. */
export function createSqliteDocumentStore({ connection, tables }: SqliteStoreContext): DocumentStore {
  const putManySql = memoizeByRowCount(
    (rows) => `INSERT INTO ${tables.documents} (collection, id, document, updated_at)
      VALUES ${valuesPlaceholders(rows, 4)}
      ON CONFLICT (collection, id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
  );
  return {
    get: <T>(tx: Parameters<DocumentStore['get']>[0], collection: string, id: string) =>
      connection.read(tx, (session) => {
        const row = session.get<{ document: string }>(
          `SELECT document FROM ${tables.documents} WHERE collection = ? AND id = ?`,
          [collection, id],
        );
        return row === undefined ? null : (JSON.parse(row.document) as T);
      }),
    async put(tx, collection, id, document) {
      connection.join(tx).session.run(
        `INSERT INTO ${tables.documents} (collection, id, document, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (collection, id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
        [collection, id, JSON.stringify(document ?? null), Date.now()],
      );
    },
    async putMany(tx, collection, entries) {
      const session = connection.join(tx).session;
      const updatedAt = Date.now();
      // Rows are upserted in entry order (within and across statements): a later entry wins.
      let start = 0;
      for (const rows of powerOfTwoBatches(entries.length, documentsPerStatement)) {
        const params: unknown[] = [];
        for (const { id, document } of entries.slice(start, start + rows)) {
          params.push(collection, id, JSON.stringify(document ?? null), updatedAt);
        }
        session.run(putManySql(rows), params);
        start += rows;
      }
    },
    async deleteMany(tx, collection, ids) {
      if (ids.length === 0) return 0;
      return connection
        .join(tx)
        .session.run(
          `DELETE FROM ${tables.documents} WHERE collection = ? AND id IN (SELECT value FROM json_each(?))`,
          [collection, JSON.stringify(ids)],
        ).changes;
    },
    async delete(tx, collection, id) {
      const { changes } = connection
        .join(tx)
        .session.run(`DELETE FROM ${tables.documents} WHERE collection = ? AND id = ?`, [collection, id]);
      return changes > 0;
    },
    find: <T>(tx: Parameters<DocumentStore['find']>[0], collection: string, options: FindOptions = {}) =>
      connection.read(tx, (session) => {
        const { sql, params } = findQuery(tables, collection, options);
        return session
          .all<{ id: string; document: string }>(sql, params)
          .map((row) => ({ id: row.id, document: JSON.parse(row.document) as T }));
      }),
    count: (tx, collection) =>
      connection.read(
        tx,
        (session) =>
          session.get<{ count: number }>(
            `SELECT count(*) AS count FROM ${tables.documents} WHERE collection = ?`,
            [collection],
          )?.count ?? 0,
      ),
    async dropCollection(tx, collection) {
      return connection
        .join(tx)
        .session.run(`DELETE FROM ${tables.documents} WHERE collection = ?`, [collection]).changes;
    },
  };
}

/** 4 parameters a row: 1,024 of SQLite's 32,766 per statement. */
const documentsPerStatement = 256;

/**
 * Builds the find statement. Booleans are matched by JSON type, because json_extract() turns
 * `true` into 1 and would otherwise also match the number 1.
 */
function findQuery(
  tables: SqliteTables,
  collection: string,
  options: FindOptions,
): { sql: string; params: unknown[] } {
  const conditions = ['collection = ?'];
  const params: unknown[] = [collection];
  if (options.afterId !== undefined) {
    conditions.push('id > ?');
    params.push(options.afterId);
  }
  for (const [field, value] of Object.entries(options.where ?? {})) {
    const path = jsonPath(field);
    if (typeof value === 'boolean') {
      conditions.push('json_type(document, ?) = ?');
      params.push(path, value ? 'true' : 'false');
    } else {
      conditions.push('json_extract(document, ?) = ?');
      params.push(path, value);
    }
  }
  params.push(options.limit ?? -1);
  return {
    sql: `SELECT id, document FROM ${tables.documents} WHERE ${conditions.join(' AND ')} ORDER BY id LIMIT ?`,
    params,
  };
}

function jsonPath(field: string): string {
  if (field.includes('"')) {
    throw new InvalidArgumentError('where', `Document field name ${field} cannot contain a double quote`, {
      field,
    });
  }
  return `$."${field}"`;
}
