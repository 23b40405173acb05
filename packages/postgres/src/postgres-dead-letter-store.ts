import type { DeadLetter, DeadLetterStore } from '@causeway/core';
import type { PostgresConnection } from './postgres-connection.ts';
import type { PostgresSchema } from './postgres-schema.ts';

interface DeadLetterRow {
  sequence: number;
  consumer: string;
  message_id: string;
  ordering_key: string;
  message: unknown;
  reason: string;
  attempts: number;
  first_seen_at: Date;
  last_seen_at: Date;
  status: DeadLetter['status'];
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    sequence: Number(row.sequence),
    consumer: row.consumer,
    messageId: row.message_id,
    orderingKey: row.ordering_key,
    message: row.message,
    reason: row.reason,
    attempts: row.attempts,
    firstSeenAt: row.first_seen_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    status: row.status,
  };
}

/** An entry that blocks its key: dead, or parked behind a dead one. */
const open = `status IN ('dead', 'parked')`;

/**
 * The keys among `$keys` (a text[] parameter) that an open (dead or parked) entry of consumer
 * `$consumer` blocks; shared with the inbox's admission, which runs it inside its insert.
 */
export function blockedKeysSql(schema: PostgresSchema, params: { consumer: string; keys: string }): string {
  return `SELECT DISTINCT ordering_key FROM ${schema.sql}.dead_letters
   WHERE consumer = ${params.consumer} AND ordering_key = ANY (${params.keys}::text[])
     AND ${open}`;
}

/** Dead and parked messages of this schema's consumers (see the port for the parking rule). */
export function createPostgresDeadLetterStore(
  connection: PostgresConnection,
  schema: PostgresSchema,
): DeadLetterStore {
  const t = `${schema.sql}.dead_letters`;
  return {
    async put(tx, entry) {
      await (tx ?? connection).execute(
        `INSERT INTO ${t} (consumer, message_id, ordering_key, message, reason, attempts, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (consumer, message_id) DO UPDATE SET reason = excluded.reason,
           attempts = greatest(${t}.attempts, excluded.attempts), last_seen_at = now()`,
        [
          entry.consumer,
          entry.messageId,
          entry.orderingKey,
          JSON.stringify(entry.message),
          entry.reason,
          entry.attempts,
          entry.status,
        ],
      );
    },
    async isKeyBlocked(tx, consumer, orderingKey) {
      const rows = await (tx ?? connection).query(
        `SELECT 1 FROM ${t} WHERE consumer = $1 AND ordering_key = $2 AND ${open} LIMIT 1`,
        [consumer, orderingKey],
      );
      return rows.length > 0;
    },
    async blockedKeys(tx, consumer, orderingKeys) {
      if (orderingKeys.length === 0) return new Set();
      const rows = await (tx ?? connection).query<{ ordering_key: string }>(
        blockedKeysSql(schema, { consumer: '$1', keys: '$2' }),
        [consumer, [...new Set(orderingKeys)]],
      );
      return new Set(rows.map((row) => row.ordering_key));
    },
    async openForKey(tx, consumer, orderingKey) {
      const rows = await (tx ?? connection).query<DeadLetterRow>(
        `SELECT * FROM ${t} WHERE consumer = $1 AND ordering_key = $2 AND ${open} ORDER BY sequence`,
        [consumer, orderingKey],
      );
      return rows.map(toDeadLetter);
    },
    async get(tx, sequence) {
      const [row] = await (tx ?? connection).query<DeadLetterRow>(`SELECT * FROM ${t} WHERE sequence = $1`, [
        sequence,
      ]);
      return row ? toDeadLetter(row) : null;
    },
    async list(options = {}) {
      const rows = await connection.query<DeadLetterRow>(
        `SELECT * FROM ${t} WHERE ($1::text IS NULL OR consumer = $1) AND ($2::text IS NULL OR status = $2)
          ORDER BY sequence LIMIT $3`,
        [options.consumer ?? null, options.status ?? null, options.limit ?? 100],
      );
      return rows.map(toDeadLetter);
    },
    async setStatus(tx, sequence, status) {
      await (tx ?? connection).execute(
        `UPDATE ${t} SET status = $1, last_seen_at = now() WHERE sequence = $2`,
        [status, sequence],
      );
    },
  };
}
