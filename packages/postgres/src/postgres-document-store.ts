import type { DocumentStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

// Entries per upsert statement: the arrays travel as two parameters, so this only bounds memory.
const entriesPerStatement = 5_000;

/**
 * One entry per id, the last one given winning (ON CONFLICT cannot touch a row twice in one
 * statement), sorted by id so that concurrent writers lock rows in the same order.
 */
function lastEntryPerId(entries: ReadonlyArray<{ id: string; document: unknown }>) {
  const byId = new Map<string, unknown>();
  for (const { id, document } of entries) byId.set(id, document);
  return [...byId].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** JSON documents by `(collection, id)`; ids sort bytewise (COLLATE "C"), as on SQLite. */
export function createPostgresDocumentStore(
  connection: PostgresConnection,
  schema: PostgresSchema,
): DocumentStore {
  const s = schema.sql;
  const getSql = prepared(`SELECT document FROM ${s}.documents WHERE collection = $1 AND id = $2`);
  const putSql =
    prepared(`INSERT INTO ${s}.documents (collection, id, document, updated_at) VALUES ($1, $2, $3::jsonb, now())
         ON CONFLICT (collection, id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()`);
  return {
    async get<T>(tx: Parameters<DocumentStore['get']>[0], collection: string, id: string) {
      const [row] = await (tx ?? connection).query<{ document: T }>(getSql, [collection, id]);
      return row ? row.document : null;
    },
    async put(tx, collection, id, document) {
      await tx.execute(putSql, [collection, id, JSON.stringify(document ?? null)]);
    },
    async putMany(tx, collection, entries) {
      const unique = lastEntryPerId(entries);
      for (let start = 0; start < unique.length; start += entriesPerStatement) {
        const chunk = unique.slice(start, start + entriesPerStatement);
        await tx.execute(
          `INSERT INTO ${s}.documents (collection, id, document, updated_at)
           SELECT $1, entry.id, entry.document::jsonb, now()
             FROM unnest($2::text[], $3::text[]) AS entry(id, document)
           ON CONFLICT (collection, id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()`,
          [
            collection,
            chunk.map(([id]) => id),
            chunk.map(([, document]) => JSON.stringify(document ?? null)),
          ],
        );
      }
    },
    async deleteMany(tx, collection, ids) {
      if (ids.length === 0) return 0;
      const { rowCount } = await tx.execute(
        `DELETE FROM ${s}.documents WHERE collection = $1 AND id = ANY ($2::text[])`,
        [collection, ids],
      );
      return rowCount;
    },
    async delete(tx, collection, id) {
      const { rowCount } = await tx.execute(`DELETE FROM ${s}.documents WHERE collection = $1 AND id = $2`, [
        collection,
        id,
      ]);
      return rowCount === 1;
    },
    async find<T>(
      tx: Parameters<DocumentStore['find']>[0],
      collection: string,
      options: Parameters<DocumentStore['find']>[2] = {},
    ) {
      // Top-level equality as jsonb containment: {"status": "open"} matches documents whose status is "open".
      const rows = await (tx ?? connection).query<{ id: string; document: T }>(
        `SELECT id, document FROM ${s}.documents
          WHERE collection = $1 AND ($2::jsonb IS NULL OR document @> $2::jsonb)
            AND ($3::text IS NULL OR id > $3::text)
          ORDER BY id LIMIT $4`,
        [
          collection,
          options.where ? JSON.stringify(options.where) : null,
          options.afterId ?? null,
          options.limit ?? null,
        ],
      );
      return rows.map((row) => ({ id: row.id, document: row.document }));
    },
    async count(tx, collection) {
      const [row] = await (tx ?? connection).query<{ count: number }>(
        `SELECT count(*)::bigint AS count FROM ${s}.documents WHERE collection = $1`,
        [collection],
      );
      return row?.count ?? 0;
    },
    async dropCollection(tx, collection) {
      const { rowCount } = await tx.execute(`DELETE FROM ${s}.documents WHERE collection = $1`, [collection]);
      return rowCount;
    },
  };
}
