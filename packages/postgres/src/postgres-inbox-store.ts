import type { InboxStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import { blockedKeysSql } from './postgres-dead-letter-store.ts';
import { type KeptRowsRow, keptRowsOf } from './postgres-kept-rows.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

/**
 * Receipts of handled messages. A concurrent duplicate `record` waits for the first transaction
 * and, once that commits, finds the row and returns false: a message is handled once per consumer.
 */
export function createPostgresInboxStore(connection: PostgresConnection, schema: PostgresSchema): InboxStore {
  const s = schema.sql;
  const recordSql = prepared(
    `INSERT INTO ${s}.inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
  );
  const recordManySql =
    prepared(`INSERT INTO ${s}.inbox (consumer, message_id) SELECT $1, id FROM unnest($2::text[]) AS id
         ON CONFLICT DO NOTHING RETURNING message_id`);
  const admitSql =
    prepared(`WITH blocked AS (${blockedKeysSql(schema, { consumer: '$1', keys: '$3' })}), recorded AS (
           INSERT INTO ${s}.inbox (consumer, message_id)
           SELECT $1, arrival.id FROM unnest($2::text[], $3::text[]) AS arrival (id, key)
            WHERE arrival.key NOT IN (SELECT ordering_key FROM blocked)
           ON CONFLICT DO NOTHING RETURNING message_id
         )
         SELECT true AS blocked, ordering_key AS value FROM blocked
         UNION ALL SELECT false, message_id FROM recorded`);
  return {
    async record(tx, consumer, messageId) {
      const { rowCount } = await tx.execute(recordSql, [consumer, messageId]);
      return rowCount === 1;
    },
    async recordMany(tx, consumer, messageIds) {
      if (messageIds.length === 0) return new Set();
      // Sorted: two transactions recording overlapping ids take the index entries in one order.
      const rows = await tx.query<{ message_id: string }>(recordManySql, [
        consumer,
        [...new Set(messageIds)].sort(),
      ]);
      return new Set(rows.map((row) => row.message_id));
    },
    async admit(tx, consumer, arrivals) {
      if (arrivals.length === 0) return { recorded: new Set(), blockedKeys: new Set() };
      const keyOf = new Map(arrivals.map(({ messageId, orderingKey }) => [messageId, orderingKey]));
      // Sorted ids, as in recordMany. One round trip where the check and the insert took two.
      const ids = [...keyOf.keys()].sort();
      const rows = await tx.query<{ blocked: boolean; value: string }>(admitSql, [
        consumer,
        ids,
        ids.map((id) => keyOf.get(id)!),
      ]);
      const admission = { recorded: new Set<string>(), blockedKeys: new Set<string>() };
      for (const row of rows) (row.blocked ? admission.blockedKeys : admission.recorded).add(row.value);
      return admission;
    },
    async has(tx, consumer, messageId) {
      const rows = await (tx ?? connection).query(
        `SELECT 1 FROM ${s}.inbox WHERE consumer = $1 AND message_id = $2`,
        [consumer, messageId],
      );
      return rows.length > 0;
    },
    async countReceipts() {
      const [row] = await connection.query<KeptRowsRow>(
        `SELECT count(*)::bigint AS count,
                floor(extract(epoch FROM clock_timestamp() - min(received_at)) * 1000)::bigint AS oldest_age_ms
           FROM ${s}.inbox`,
      );
      return keptRowsOf(row);
    },
    async prune(olderThan) {
      const { rowCount } = await connection.execute(`DELETE FROM ${s}.inbox WHERE received_at < $1`, [
        olderThan,
      ]);
      return rowCount;
    },
  };
}
