import type { InboxStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import type { PostgresSchema } from './postgres-schema.ts';

/**
 * Receipts of handled messages. A concurrent duplicate `record` waits for the first transaction
 * and, once that commits, finds the row and returns false: a message is handled once per consumer.
 */
export function createPostgresInboxStore(connection: PostgresConnection, schema: PostgresSchema): InboxStore {
  const s = schema.sql;
  return {
    async record(tx, consumer, messageId) {
      const { rowCount } = await tx.execute(
        `INSERT INTO ${s}.inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [consumer, messageId],
      );
      return rowCount === 1;
    },
    async recordMany(tx, consumer, messageIds) {
      if (messageIds.length === 0) return new Set();
      // Sorted: two transactions recording overlapping ids take the index entries in one order.
      const rows = await tx.query<{ message_id: string }>(
        `INSERT INTO ${s}.inbox (consumer, message_id) SELECT $1, id FROM unnest($2::text[]) AS id
         ON CONFLICT DO NOTHING RETURNING message_id`,
        [consumer, [...new Set(messageIds)].sort()],
      );
      return new Set(rows.map((row) => row.message_id));
    },
    async has(tx, consumer, messageId) {
      const rows = await (tx ?? connection).query(
        `SELECT 1 FROM ${s}.inbox WHERE consumer = $1 AND message_id = $2`,
        [consumer, messageId],
      );
      return rows.length > 0;
    },
    async prune(olderThan) {
      const { rowCount } = await connection.execute(`DELETE FROM ${s}.inbox WHERE received_at < $1`, [
        olderThan,
      ]);
      return rowCount;
    },
  };
}
