import type { DeadLetterStore, InboxStore } from '@causeway/core';
import type { SqliteStoreContext } from './sqlite-connection.ts';
import { type KeptRowsRow, keptRowsOf } from './sqlite-kept-rows.ts';

/** Receipts of handled messages; a receipt commits or rolls back with the handler's transaction. */
export function createSqliteInboxStore(
  { connection, tables }: SqliteStoreContext,
  deadLetters: DeadLetterStore,
): InboxStore {
  const recordMany: InboxStore['recordMany'] = async (tx, consumer, messageIds) => {
    const { session } = connection.join(tx);
    const recorded = new Set<string>();
    const receivedAt = Date.now();
    for (const messageId of messageIds) {
      const { changes } = session.run(
        `INSERT INTO ${tables.inbox} (consumer, message_id, received_at) VALUES (?, ?, ?)
           ON CONFLICT (consumer, message_id) DO NOTHING`,
        [consumer, messageId, receivedAt],
      );
      if (changes === 1) recorded.add(messageId);
    }
    return recorded;
  };
  return {
    async record(tx, consumer, messageId) {
      const { changes } = connection.join(tx).session.run(
        `INSERT INTO ${tables.inbox} (consumer, message_id, received_at) VALUES (?, ?, ?)
           ON CONFLICT (consumer, message_id) DO NOTHING`,
        [consumer, messageId, Date.now()],
      );
      return changes === 1;
    },
    recordMany,
    async admit(tx, consumer, arrivals) {
      // In process a statement costs no round trip, so the check and the inserts stay apart.
      const blockedKeys = await deadLetters.blockedKeys(
        tx,
        consumer,
        arrivals.map(({ orderingKey }) => orderingKey),
      );
      const admitted = arrivals.filter(({ orderingKey }) => !blockedKeys.has(orderingKey));
      const recorded = await recordMany(
        tx,
        consumer,
        admitted.map(({ messageId }) => messageId),
      );
      return { recorded, blockedKeys };
    },
    has: (tx, consumer, messageId) =>
      connection.read(
        tx,
        (session) =>
          session.get(`SELECT 1 FROM ${tables.inbox} WHERE consumer = ? AND message_id = ?`, [
            consumer,
            messageId,
          ]) !== undefined,
      ),
    countReceipts: () =>
      connection.read(null, (session) =>
        keptRowsOf(
          session.get<KeptRowsRow>(
            `SELECT count(*) AS count, min(received_at) AS oldest FROM ${tables.inbox}`,
          ),
        ),
      ),
    prune: (olderThan) =>
      connection.transaction(
        async (tx) =>
          tx.session.run(`DELETE FROM ${tables.inbox} WHERE received_at < ?`, [olderThan.getTime()]).changes,
      ),
  };
}
