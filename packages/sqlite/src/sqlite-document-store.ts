import { type DocumentStore, InvalidArgumentError } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';
import type { SqliteTables } from './sqlite-schema.ts';

type FindOptions = { where?: Record<string, string | number | boolean>; limit?: number; afterId?: string };

/** JSON documents in named collections, stored as TEXT and matched with SQLite's JSON functions. */
export function createSqliteDocumentStore({ connection, tables }: SqliteStoreContext): DocumentStore {
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
