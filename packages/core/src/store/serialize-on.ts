import type { Transaction } from './store.ts';

/**
 * Makes the transactions that call this with the same key take turns until they end: on
 * PostgreSQL with a transaction-scoped advisory lock, on SQLite by nothing more, as its writers
 * already go one at a time. For work that several processes may try at once and only one may do
 * (apply a projection's batch, change the shard map): after it, the transaction reads what the
 * one before it committed.
 */
export async function serializeOn(tx: Transaction, key: string): Promise<void> {
  if (tx.storeName === 'postgres') await tx.execute('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
}
