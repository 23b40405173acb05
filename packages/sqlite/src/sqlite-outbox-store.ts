import type { ClaimedMessage, MessageId, OutboxMessage, OutboxStore } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';
import { type KeptRowsRow, keptRowsOf } from './sqlite-kept-rows.ts';
import type { SqliteTables } from './sqlite-schema.ts';
import type { SqliteTransaction } from './sqlite-transaction.ts';

interface OutboxRow {
  sequence: number;
  message_id: string;
  destination: string;
  ordering_key: string;
  type: string;
  payload: string;
  attempts: number;
  created_at: number;
}

/** Writes outbox rows in the caller's transaction; shared by enqueue and append. */
export function insertOutboxMessages(
  tx: SqliteTransaction,
  tables: SqliteTables,
  messages: readonly OutboxMessage[],
): void {
  const createdAt = Date.now();
  for (const message of messages) {
    tx.session.run(
      `INSERT INTO ${tables.outbox} (message_id, destination, ordering_key, type, payload, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [
        message.id,
        message.destination,
        message.orderingKey,
        message.type,
        JSON.stringify(message.payload ?? null),
        createdAt,
      ],
    );
  }
  if (messages.length > 0) tx.markChanged();
}

/**
 * The outbox on SQLite. Claims run in their own BEGIN IMMEDIATE transaction, so claims by
 * relays in several processes are serialized by the database's write lock.
 */
export function createSqliteOutboxStore({ connection, tables }: SqliteStoreContext): OutboxStore {
  return {
    async enqueue(tx, messages) {
      insertOutboxMessages(connection.join(tx), tables, messages);
    },
    claimBatch: (options) => connection.transaction(async (tx) => claimBatch(tx, tables, options)),
    markPublished: (owner, ids) =>
      connection.transaction(async (tx) => {
        const { changes } = tx.session.run(
          `UPDATE ${tables.outbox} SET published_at = ?, lease_until = NULL
           WHERE message_id IN (SELECT value FROM json_each(?)) AND lease_owner = ? AND published_at IS NULL`,
          [Date.now(), JSON.stringify(ids), owner],
        );
        return changes;
      }),
    release: (owner, ids) => connection.transaction(async (tx) => release(tx, tables, owner, ids)),
    backlog: () =>
      connection.read(null, (session) => {
        const row = session.get<{ count: number; oldest: number | null }>(
          `SELECT count(*) AS count, min(created_at) AS oldest FROM ${tables.outbox} WHERE published_at IS NULL`,
        );
        const oldest = row?.oldest ?? null;
        return {
          count: row?.count ?? 0,
          oldestAgeMs: oldest === null ? 0 : Math.max(0, Date.now() - oldest),
        };
      }),
    countPublished: () =>
      connection.read(null, (session) =>
        keptRowsOf(
          session.get<KeptRowsRow>(
            `SELECT count(*) AS count, min(published_at) AS oldest FROM ${tables.outbox} WHERE published_at IS NOT NULL`,
          ),
        ),
      ),
    prunePublished: (olderThan) =>
      connection.transaction(
        async (tx) =>
          tx.session.run(`DELETE FROM ${tables.outbox} WHERE published_at IS NOT NULL AND published_at < ?`, [
            olderThan.getTime(),
          ]).changes,
      ),
  };
}

/**
 * Leases free messages in sequence order, skipping every ordering key on which another owner
 * holds a live lease: that owner may still publish an earlier message of the key, and handing
 * a later one to someone else could publish them out of order. Expired leases count as free.
 */
function claimBatch(
  tx: SqliteTransaction,
  tables: SqliteTables,
  options: { owner: string; limit: number; leaseMs: number },
): ClaimedMessage[] {
  const now = Date.now();
  const rows = tx.session.all<OutboxRow>(claimStatement(tables), {
    1: options.owner,
    2: now,
    3: options.leaseMs,
    4: options.limit,
  });
  return rows.sort((a, b) => a.sequence - b.sequence).map(toClaimedMessage);
}

/** The claim: ?1 owner, ?2 now (epoch ms), ?3 lease ms, ?4 limit. Exported for its plan's test. */
export function claimStatement(tables: SqliteTables): string {
  return `UPDATE ${tables.outbox} SET lease_owner = ?1, lease_until = ?2 + ?3, attempts = attempts + 1
     WHERE sequence IN (
       SELECT candidate.sequence FROM ${tables.outbox} AS candidate
       WHERE candidate.published_at IS NULL
         AND (candidate.lease_until IS NULL OR candidate.lease_until <= ?2)
         AND NOT EXISTS (
           SELECT 1 FROM ${tables.outbox} AS held
           WHERE held.ordering_key = candidate.ordering_key AND held.published_at IS NULL
             AND held.lease_until > ?2 AND held.lease_owner <> ?1)
       ORDER BY candidate.sequence LIMIT ?4)
     RETURNING sequence, message_id, destination, ordering_key, type, payload, attempts, created_at`;
}

function release(
  tx: SqliteTransaction,
  tables: SqliteTables,
  owner: string,
  ids: readonly MessageId[],
): void {
  tx.session.run(
    `UPDATE ${tables.outbox} SET lease_owner = NULL, lease_until = NULL
     WHERE message_id IN (SELECT value FROM json_each(?)) AND lease_owner = ? AND published_at IS NULL`,
    [JSON.stringify(ids), owner],
  );
}

function toClaimedMessage(row: OutboxRow): ClaimedMessage {
  return {
    id: row.message_id,
    destination: row.destination,
    orderingKey: row.ordering_key,
    type: row.type,
    payload: JSON.parse(row.payload) as unknown,
    sequence: row.sequence,
    attempts: row.attempts,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
