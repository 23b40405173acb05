/**
 * The write-back tests' counters: a table of counts per key, kept by a write-back whose pending
 * increments add up (`merge` is a sum) and whose flush adds each key's sum to its row, in the
 * transaction that clears the journal. Plain SQL that SQLite and PostgreSQL both run.
 */
import { createWriteBack, type Store, type WriteBack } from '@causeway/core';

export const counterTable = 'write_back_counts';

export async function createCounterTable(store: Store): Promise<void> {
  await store.transaction((tx) =>
    tx.execute(`CREATE TABLE IF NOT EXISTS ${counterTable} (key TEXT PRIMARY KEY, n BIGINT NOT NULL)`),
  );
}

export function createCounters(
  store: Store,
  options: { owner?: string; flushEveryMs?: number; maxBatch?: number } = {},
): WriteBack<number> {
  return createWriteBack<number>({
    store,
    name: 'counters',
    ...options,
    merge: (pending, next) => pending + next,
    async flush(tx, entries) {
      for (const { key, value } of entries) {
        await tx.execute(
          `INSERT INTO ${counterTable} (key, n) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET n = ${counterTable}.n + excluded.n`,
          [key, value],
        );
      }
    },
  });
}

export async function readCounts(store: Store): Promise<Map<string, number>> {
  const rows = await store.transaction((tx) =>
    tx.query<{ key: string; n: number | string }>(`SELECT key, n FROM ${counterTable}`),
  );
  return new Map(rows.map((row) => [row.key, Number(row.n)]));
}
