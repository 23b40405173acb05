import type { DeadLetter, DeadLetterStore } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';

interface DeadLetterRow {
  sequence: number;
  consumer: string;
  message_id: string;
  ordering_key: string;
  message: string;
  reason: string;
  attempts: number;
  first_seen_at: string;
  last_seen_at: string;
  status: DeadLetter['status'];
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    sequence: row.sequence,
    consumer: row.consumer,
    messageId: row.message_id,
    orderingKey: row.ordering_key,
    message: JSON.parse(row.message),
    reason: row.reason,
    attempts: row.attempts,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    status: row.status,
  };
}

/** Dead and parked messages of this database's consumers (see the port for the parking rule). */
export function createSqliteDeadLetterStore({ connection, tables }: SqliteStoreContext): DeadLetterStore {
  const t = tables.deadLetters;
  return {
    put: (tx, entry) =>
      connection.write(tx, (own) => {
        const now = new Date().toISOString();
        own.session.run(
          `INSERT INTO ${t} (consumer, message_id, ordering_key, message, reason, attempts, first_seen_at, last_seen_at, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (consumer, message_id) DO UPDATE SET reason = excluded.reason,
             attempts = max(attempts, excluded.attempts), last_seen_at = excluded.last_seen_at`,
          [
            entry.consumer,
            entry.messageId,
            entry.orderingKey,
            JSON.stringify(entry.message),
            entry.reason,
            entry.attempts,
            now,
            now,
            entry.status,
          ],
        );
      }),
    isKeyBlocked: (tx, consumer, orderingKey) =>
      connection.read(
        tx,
        (session) =>
          session.get(
            `SELECT 1 FROM ${t} WHERE consumer = ? AND ordering_key = ? AND status IN ('dead', 'parked') LIMIT 1`,
            [consumer, orderingKey],
          ) !== undefined,
      ),
    blockedKeys: (tx, consumer, orderingKeys) =>
      connection.read(
        tx,
        (session) =>
          new Set(
            session
              .all<{ ordering_key: string }>(
                `SELECT DISTINCT ordering_key FROM ${t} WHERE consumer = ?
                   AND ordering_key IN (SELECT value FROM json_each(?)) AND status IN ('dead', 'parked')`,
                [consumer, JSON.stringify(orderingKeys)],
              )
              .map((row) => row.ordering_key),
          ),
      ),
    openForKey: (tx, consumer, orderingKey) =>
      connection.read(tx, (session) =>
        session
          .all<DeadLetterRow>(
            `SELECT * FROM ${t} WHERE consumer = ? AND ordering_key = ? AND status IN ('dead', 'parked') ORDER BY sequence`,
            [consumer, orderingKey],
          )
          .map(toDeadLetter),
      ),
    get: (tx, sequence) =>
      connection.read(tx, (session) => {
        const row = session.get<DeadLetterRow>(`SELECT * FROM ${t} WHERE sequence = ?`, [sequence]);
        return row ? toDeadLetter(row) : null;
      }),
    list: (options = {}) =>
      connection.read(null, (session) =>
        session
          .all<DeadLetterRow>(
            `SELECT * FROM ${t} WHERE (? IS NULL OR consumer = ?) AND (? IS NULL OR status = ?) ORDER BY sequence LIMIT ?`,
            [
              options.consumer ?? null,
              options.consumer ?? null,
              options.status ?? null,
              options.status ?? null,
              options.limit ?? 100,
            ],
          )
          .map(toDeadLetter),
      ),
    setStatus: (tx, sequence, status) =>
      connection.write(tx, (own) => {
        own.session.run(`UPDATE ${t} SET status = ?, last_seen_at = ? WHERE sequence = ?`, [
          status,
          new Date().toISOString(),
          sequence,
        ]);
      }),
  };
}
