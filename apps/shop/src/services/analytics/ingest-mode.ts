/**
 * How a generation's bronze is fed: from the services' WAL on PostgreSQL with wal_level=logical,
 * otherwise from each service's event log. Recorded per generation (generation-records.ts).
 */
import type { Store } from '@causeway/core';

export type IngestMode = 'wal' | 'event-log';

export async function walAvailable(store: Store, usesPostgres: boolean): Promise<boolean> {
  if (!usesPostgres) return false;
  const [row] = await store.transaction((tx) => tx.query<{ wal_level: string }>('SHOW wal_level'));
  return row?.wal_level === 'logical';
}
