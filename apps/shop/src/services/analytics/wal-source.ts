/**
 * On PostgreSQL, bronze is fed from each service's WAL: a replication slot per service database
 * captures its event log (and shipping's shipments table) with an initial copy, and a transaction
 * is acknowledged to the slot only after bronze committed it with its LSN. A crash between the two
 * redelivers the transaction, which bronze skips by that LSN.
 */
import type { Bronze, BronzeChange } from '@causeway/lakehouse';
import type { Change, ChangeTransaction } from '@causeway/postgres-cdc';

export interface WalSourceOptions {
  service: string;
  connectionString: string;
  /** Replication slots are per server: the name includes the service's database. */
  slot: string;
  bronze: Bronze;
  /** Rows per chunk of the initial copy (the source's default when absent). */
  snapshotChunkSize?: number;
  onIngested(source: string, appended: number): void;
  /** After each transaction: how long after its commit bronze took it in. */
  onBehind(source: string, behindMs: number): void;
  onError(source: string, error: unknown): void;
}

/** The tables a service's analytics slot captures. */
export function capturedTables(service: string): string[] {
  return service === 'shipping' ? ['shop.events', 'shop.shipments'] : ['shop.events'];
}

/** A PostgreSQL LSN (`16/B374D848`) as the 64-bit integer it is. */
export function lsnAsPosition(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/**
 * A change as bronze keeps it, at its transaction's commit end LSN. Not the commit LSN the change
 * carries: the next transaction's commit record can start exactly where this one's ends, and
 * bronze, which stores the end, would take that transaction for a redelivery.
 */
export function bronzeChangeOf(service: string, change: Change, commitEnd: bigint): BronzeChange {
  return {
    id: change.id,
    source: service,
    table: change.source.table,
    op: change.op,
    key: change.key,
    before: change.before,
    after: change.after,
    committedAt: change.source.commitTime,
    position: commitEnd,
  };
}

export async function startWalSource(options: WalSourceOptions): Promise<{ stop(): Promise<void> }> {
  const { createPostgresChangeSource } = await import('@causeway/postgres-cdc');
  const source = createPostgresChangeSource({
    connectionString: options.connectionString,
    slot: options.slot,
    publication: 'analytics_cdc',
    tables: capturedTables(options.service),
    // A restart after a SIGKILL can find the old connection still holding the slot for a moment.
    slotBusyTimeoutMs: 30_000,
    ...(options.snapshotChunkSize ? { snapshotChunkSize: options.snapshotChunkSize } : {}),
    onError: (error) => options.onError(options.service, error),
  });
  await source.start(async (transaction: ChangeTransaction) => {
    const position = lsnAsPosition(transaction.lsn);
    const { appended } = await options.bronze.ingest({
      source: options.service,
      changes: transaction.changes.map((change) => bronzeChangeOf(options.service, change, position)),
      position,
      cursor: transaction.lsn,
      // The chunks of a copy share the slot's consistent point: they are told apart by change id.
      ...(transaction.snapshot ? { dedupe: 'id' as const } : {}),
    });
    if (appended > 0) options.onIngested(options.service, appended);
    options.onBehind(options.service, Math.max(0, Date.now() - Date.parse(transaction.commitTime)));
  });
  return source;
}
