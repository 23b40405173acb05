import type { ClaimedMessage, OutboxHandoff, OutboxMessage, OutboxStore, Transaction } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import { type KeptRowsRow, keptRowsOf } from './postgres-kept-rows.ts';
import { type HandoffSlot, handedMessages } from './postgres-outbox-handoff.ts';
import { prepared } from './postgres-prepared.ts';
import type { PostgresSchema } from './postgres-schema.ts';

interface HandedRow {
  message_id: string;
  handed: boolean;
}

interface OutboxRow {
  sequence: number;
  message_id: string;
  destination: string;
  ordering_key: string;
  type: string;
  payload: unknown;
  attempts: number;
  created_at: Date;
}

function toClaimed(row: OutboxRow): ClaimedMessage {
  return {
    id: row.message_id,
    destination: row.destination,
    orderingKey: row.ordering_key,
    type: row.type,
    payload: row.payload,
    sequence: row.sequence,
    attempts: row.attempts,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * The outbox on PostgreSQL. Claims are serialized by a transaction-level advisory lock, so two
 * relays never both decide that an ordering key is free; leases make delivery at-least-once.
 *
 * Claims, marks and releases commit without waiting for the WAL flush (synchronous_commit off for
 * that transaction only): losing one in a crash only makes rows claimable again, and a republish
 * is what at-least-once already allows (consumers' inboxes drop it). It takes two flush waits off
 * every message's way from commit to broker.
 */
export function createPostgresOutboxStore(
  connection: PostgresConnection,
  schema: PostgresSchema,
  onEnqueued: () => void,
  handoff: HandoffSlot,
): OutboxStore {
  const s = schema.sql;
  // Evaluated once per statement; the setting is read at commit (see above).
  const relaxedCommit = `(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed_commit`;
  const claimSql = prepared(
    `SELECT sequence, message_id, destination, ordering_key, type, payload, attempts, created_at
       FROM ${s}.claim_outbox($1, $2, $3)`,
  );
  const enqueueSql = prepared(`INSERT INTO ${s}.outbox (message_id, destination, ordering_key, type, payload)
         SELECT m.value->>'id', m.value->>'destination', m.value->>'orderingKey', m.value->>'type',
                coalesce(m.value->'payload', 'null'::jsonb)
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS m ORDER BY m.ordinality
         ON CONFLICT (message_id) DO NOTHING`);
  // The same insert, with each message whose key nobody else holds written leased to the
  // handoff's owner ($2): the NOT EXISTS finds an earlier unpublished message of the key that is
  // unleased or another owner's, which must go out first through a claim. MATERIALIZED: inlined,
  // the check ran once for each of the three columns that read it.
  const enqueueHandedSql = prepared(`WITH m AS MATERIALIZED (
         SELECT m.value->>'id' AS message_id, m.value->>'destination' AS destination,
                m.value->>'orderingKey' AS ordering_key, m.value->>'type' AS type,
                coalesce(m.value->'payload', 'null'::jsonb) AS payload, m.ordinality,
                NOT EXISTS (
                  SELECT 1 FROM ${s}.outbox AS b
                   WHERE b.published_at IS NULL AND b.ordering_key = m.value->>'orderingKey'
                     AND b.lease_owner IS DISTINCT FROM $2::text) AS handed
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS m
       ), inserted AS (
         INSERT INTO ${s}.outbox (message_id, destination, ordering_key, type, payload, lease_owner, lease_until, attempts)
         SELECT message_id, destination, ordering_key, type, payload,
                CASE WHEN handed THEN $2::text END,
                CASE WHEN handed THEN clock_timestamp() + $3::int * interval '1 millisecond' END,
                CASE WHEN handed THEN 1 ELSE 0 END
           FROM m ORDER BY ordinality
         ON CONFLICT (message_id) DO NOTHING
         RETURNING message_id, lease_owner IS NOT NULL AS handed
       )
       SELECT message_id, handed FROM inserted`);

  /** Enqueues leasing what it may to the handoff's owner; calls `take` with those on commit. */
  async function enqueueHanded(tx: Transaction, messages: readonly OutboxMessage[], to: OutboxHandoff) {
    const rows = await tx.query<HandedRow>(enqueueHandedSql, [
      JSON.stringify(messages),
      to.owner,
      to.leaseMs,
    ]);
    const handedIds = rows.filter((row) => row.handed).map((row) => row.message_id);
    const handed = handedMessages(messages, handedIds);
    if (handed.length > 0) tx.onCommit(() => to.take(handed));
    // Only what waits for a claim needs the relays woken.
    if (handed.length < rows.length) tx.onCommit(onEnqueued);
  }

  const markPublishedSql = prepared(`UPDATE ${s}.outbox SET published_at = now(), lease_until = NULL
           FROM ${relaxedCommit}
          WHERE message_id = ANY ($2::text[]) AND lease_owner = $1 AND published_at IS NULL`);

  return {
    async enqueue(tx, messages) {
      if (messages.length === 0) return;
      if (handoff.current) return enqueueHanded(tx, messages, handoff.current);
      await tx.execute(enqueueSql, [JSON.stringify(messages)]);
      tx.onCommit(onEnqueued);
    },
    handOffEnqueued(next) {
      handoff.current = next;
    },
    async claimBatch({ owner, limit, leaseMs }) {
      // One round trip: the function takes the claim lock, then claims (see outbox-claim-function).
      const rows = await connection.query<OutboxRow>(claimSql, [owner, limit, leaseMs]);
      return rows.map(toClaimed).sort((a, b) => a.sequence - b.sequence);
    },
    async markPublished(owner, ids) {
      if (ids.length === 0) return 0;
      const { rowCount } = await connection.execute(markPublishedSql, [owner, ids]);
      return rowCount;
    },
    async release(owner, ids) {
      if (ids.length === 0) return;
      await connection.execute(
        `UPDATE ${s}.outbox SET lease_owner = NULL, lease_until = NULL
           FROM ${relaxedCommit}
          WHERE message_id = ANY ($2::text[]) AND lease_owner = $1 AND published_at IS NULL`,
        [owner, ids],
      );
    },
    async backlog() {
      const [row] = await connection.query<{ count: number; oldest_age_ms: number | null }>(
        `SELECT count(*)::bigint AS count,
                floor(extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::bigint AS oldest_age_ms
           FROM ${s}.outbox WHERE published_at IS NULL`,
      );
      return { count: row?.count ?? 0, oldestAgeMs: Math.max(0, row?.oldest_age_ms ?? 0) };
    },
    async countPublished() {
      const [row] = await connection.query<KeptRowsRow>(
        `SELECT count(*)::bigint AS count,
                floor(extract(epoch FROM clock_timestamp() - min(published_at)) * 1000)::bigint AS oldest_age_ms
           FROM ${s}.outbox WHERE published_at IS NOT NULL`,
      );
      return keptRowsOf(row);
    },
    async prunePublished(olderThan) {
      const { rowCount } = await connection.execute(
        `DELETE FROM ${s}.outbox WHERE published_at IS NOT NULL AND published_at < $1`,
        [olderThan],
      );
      return rowCount;
    },
  };
}
