import { ConfigurationError, inSpan, SpanKind } from '@causeway/core';
import pg from 'pg';
import type { ChangeTransaction, SchemaChange, SnapshotProgress } from './change.ts';
import { openReplicationStream, type ReplicationStream } from './replication-stream.ts';
import { dropSlot, ensureSlot, prepareSource, sourceSchemas } from './slot-preparation.ts';
import { deleteSlotState } from './slot-state.ts';
import {
  type CapturedTable,
  describeTables,
  qualified,
  readPublicationTables,
  readSlot,
  splitTableName,
} from './source-catalog.ts';
import { createTableSnapshots } from './table-snapshot.ts';
import { createTransactionAssembler } from './transaction-assembler.ts';

export interface PostgresChangeSourceOptions {
  connectionString: string;
  /** The durable replication slot: one per consumer of the changes. */
  slot: string;
  publication: string;
  /**
   * Tables to capture (`schema.table`, or `table` in `public`). When the publication does not
   * exist it is created for them; when it exists it must hold them. Without this option the
   * publication must exist, and its tables are captured.
   */
  tables?: readonly string[];
  /**
   * The operations a publication created by the source carries (PostgreSQL's `publish`
   * parameter); an existing publication is used as it is. Default all four.
   */
  operations?: readonly ('insert' | 'update' | 'delete' | 'truncate')[];
  /**
   * Transactions handed to the handler before the earlier ones resolved (default 1: one at a
   * time). The handler is still called in commit order, and a transaction is acknowledged only
   * once it and every earlier one resolved; a handler that takes several must apply them in order
   * itself (a publisher that sends one batch after the other, say).
   */
  handlerConcurrency?: number;
  /** Rows per snapshot chunk (each chunk is one handler call). Default 1024. */
  snapshotChunkSize?: number;
  /** Received messages not yet handled past which reading pauses. Default 10,000. */
  maxQueued?: number;
  /**
   * How long to wait for a slot another process still holds before refusing with `slot-in-use`.
   * A restart right after a crash can find the old connection not yet gone. Default 0.
   */
  slotBusyTimeoutMs?: number;
  /** Delay before reconnecting after the stream failed (the handler threw, the connection dropped). */
  reconnectDelayMs?: number;
  onSnapshotProgress?(progress: SnapshotProgress): void;
  /** The slot vanished or PostgreSQL invalidated it (max_slot_wal_keep_size): the tables are copied again. */
  onSlotLost?(event: { slot: string; reason: 'dropped' | 'wal-removed' }): void;
  /** A captured table gained or lost columns; later changes carry the new columns. */
  onSchemaChange?(change: SchemaChange): void;
  /**
   * Raised when the WAL the slot holds back passes `bytes`, cleared when it falls below again;
   * checked every `intervalMs` (default 10 s) while the source runs.
   */
  lagAlarm?: {
    bytes: number;
    intervalMs?: number;
    onChange(alarm: { raised: boolean; status: ChangeSourceStatus }): void;
  };
  /** The stream failed and will be reopened from the last acknowledged transaction. */
  onError?(error: unknown): void;
}

export type ChangeHandler = (transaction: ChangeTransaction) => Promise<void>;

export interface ChangeSourceStatus {
  readonly slot: string;
  readonly active: boolean;
  /** Null when the slot does not exist. */
  readonly walStatus: string | null;
  /** WAL the slot holds back: from its confirmed position to the server's current one. */
  readonly lagBytes: number | null;
  /** How far behind the source the last handled transaction was when it was handled (Debezium's MilliSecondsBehindSource). */
  readonly millisBehindSource: number | null;
  readonly lastCommitTime: string | null;
  readonly transactionsHandled: number;
}

export interface PostgresChangeSource {
  /**
   * Prepares the slot (taking the initial snapshot on first start) and streams every committed
   * change of the captured tables to the handler, one transaction at a time in commit order. A
   * transaction is acknowledged to the slot only after the handler resolved: a crash before that
   * redelivers it, with the same change ids. Resolves once streaming began; rejects on bad
   * configuration, having created nothing.
   */
  start(handler: ChangeHandler): Promise<void>;
  status(): Promise<ChangeSourceStatus>;
  stop(): Promise<void>;
  /**
   * Copies one captured table again while the stream goes on, in chunks of `snapshotChunkSize`
   * rows delivered as `op: 'r'` (`snapshot: true`): for a table added to the publication after
   * the first start, or a sink to repair. A row the stream changes while its chunk is read is
   * delivered by the stream, never overwritten by the older copy. Resumes after a restart where
   * it stopped; resolves when the table is done.
   */
  snapshotTable(table: string): Promise<void>;
  /** Stops, and removes the slot and what the source recorded about it: for a retired consumer. */
  drop(): Promise<void>;
}

export function createPostgresChangeSource(options: PostgresChangeSourceOptions): PostgresChangeSource {
  const { slot, publication, connectionString } = options;
  const chunkSize = options.snapshotChunkSize ?? 1024;
  const reconnectDelayMs = options.reconnectDelayMs ?? 1000;
  let metadata: pg.Client | null = null;
  let stream: ReplicationStream | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: () => void = () => {};
  let handled = 0;
  let lastCommitTime: string | null = null;
  let millisBehindSource: number | null = null;
  let lagTimer: NodeJS.Timeout | null = null;
  let tableSnapshots: ReturnType<typeof createTableSnapshots> | null = null;
  const tableRuns = new Map<string, Promise<void>>();
  let lagRaised = false;

  async function connectMetadata(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  async function open(handler: ChangeHandler): Promise<ReplicationStream> {
    metadata ??= await connectMetadata();
    const client = metadata;
    const { database, tables } = await prepareSource(client, options);
    await ensureSlot(client, {
      ...options,
      connectionString,
      chunkSize,
      database,
      captured: tables,
      handler,
    });
    tableSnapshots ??= createTableSnapshots({ slot, database, chunkSize });
    const snapshots = tableSnapshots;
    const assembler = createTransactionAssembler({
      slot,
      database,
      ignoredSchemas: sourceSchemas,
      describe: async (schema, table) => (await describeTables(client, [{ schema, table }]))[0]!,
      onSchemaChange: options.onSchemaChange,
    });
    return openReplicationStream({
      connectionString,
      slot,
      publication,
      assembler,
      maxQueued: options.maxQueued,
      inFlight: options.handlerConcurrency,
      onTransaction: (transaction) => {
        const { deliver, afterDelivery } = snapshots.intercept(transaction);
        const handle = (each: ChangeTransaction) =>
          inSpan(
            `cdc ${slot}`,
            () => ({
              kind: SpanKind.CONSUMER,
              attributes: {
                'causeway.cdc.slot': slot,
                'causeway.cdc.lsn': each.lsn,
                'causeway.cdc.snapshot': each.snapshot,
                'causeway.cdc.changes': each.changes.length,
                ...(each.xid === null ? {} : { 'causeway.cdc.xid': each.xid }),
              },
            }),
            () => handler(each),
          );
        const delivered =
          (options.handlerConcurrency ?? 1) > 1
            ? Promise.all(deliver.map(handle))
            : deliver.reduce<Promise<void>>(
                (previous, each) => previous.then(() => handle(each)),
                Promise.resolve(),
              );
        return delivered.then(() => {
          for (const chunkDelivered of afterDelivery) chunkDelivered();
          handled += 1;
          lastCommitTime = transaction.commitTime;
          millisBehindSource = Date.now() - Date.parse(transaction.commitTime);
        });
      },
    });
  }

  async function keepStreaming(handler: ChangeHandler, first: ReplicationStream): Promise<void> {
    let current: ReplicationStream | null = first;
    while (running) {
      if (current === null) {
        try {
          current = await open(handler);
          if (!running) {
            // stop() came while this stream was opening: it found no stream to stop.
            await current.stop();
            return;
          }
        } catch (error) {
          await resetMetadata();
          options.onError?.(error);
          await pause(reconnectDelayMs);
          continue;
        }
        stream = current;
      }
      try {
        await current.ended;
        if (!running) return;
      } catch (error) {
        tableSnapshots?.abandon(error);
        if (!running) return;
        options.onError?.(error);
        await pause(reconnectDelayMs);
      }
      current = null;
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function resetMetadata(): Promise<void> {
    const client = metadata;
    metadata = null;
    await client?.end().catch(() => {});
  }

  /** Runs a table's copy to the end, starting again after a stream failure; one run per table. */
  function runTable(table: CapturedTable): Promise<void> {
    const name = qualified(table.schema, table.table);
    const existing = tableRuns.get(name);
    if (existing) return existing;
    const run = (async () => {
      for (;;) {
        const client = new pg.Client({ connectionString });
        client.on('error', () => {});
        try {
          await client.connect();
          await tableSnapshots!.run(
            client,
            table,
            () => running,
            (rows, done) => options.onSnapshotProgress?.({ table: name, rows, done }),
          );
          return;
        } catch (error) {
          if (!running) throw error;
          options.onError?.(error);
          await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs));
        } finally {
          await client.end().catch(() => {});
        }
      }
    })().finally(() => tableRuns.delete(name));
    tableRuns.set(name, run);
    return run;
  }

  async function resumeTableSnapshots(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ table_name: string }>(
      'SELECT table_name FROM causeway_cdc.table_snapshots WHERE slot = $1 AND NOT done',
      [slot],
    );
    for (const { table_name: name } of rows) {
      const [table] = await describeTables(client, [splitTableName(name)]);
      runTable(table!).catch((error: unknown) => options.onError?.(error));
    }
  }

  async function status(): Promise<ChangeSourceStatus> {
    const client = metadata ?? (await connectMetadata());
    try {
      const { rows } = await client.query(
        `SELECT active, wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag
           FROM pg_replication_slots WHERE slot_name = $1`,
        [slot],
      );
      const row = rows[0];
      return {
        slot,
        active: row?.active ?? false,
        walStatus: row?.wal_status ?? null,
        lagBytes: row?.lag ?? null,
        millisBehindSource,
        lastCommitTime,
        transactionsHandled: handled,
      };
    } finally {
      if (client !== metadata) await client.end().catch(() => {});
    }
  }

  function watchLag(): void {
    const alarm = options.lagAlarm;
    if (alarm === undefined) return;
    let checking = false;
    lagTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      status()
        .then((current) => {
          const raised = (current.lagBytes ?? 0) > alarm.bytes;
          if (raised !== lagRaised && running) {
            lagRaised = raised;
            alarm.onChange({ raised, status: current });
          }
        })
        .catch(() => {}) // the stream's own error handling reports a lost server
        .finally(() => {
          checking = false;
        });
    }, alarm.intervalMs ?? 10_000);
    lagTimer.unref();
  }

  async function stop(): Promise<void> {
    running = false;
    tableSnapshots?.abandon(new Error(`Change source ${slot} stopped`));
    if (lagTimer !== null) clearInterval(lagTimer);
    lagTimer = null;
    wake();
    await stream?.stop();
    stream = null;
    await loop;
    loop = null;
    await Promise.allSettled(tableRuns.values());
    await resetMetadata();
  }

  return {
    async start(handler) {
      if (running) throw new Error(`Change source ${slot} is already started`);
      running = true;
      let first: ReplicationStream;
      try {
        first = await open(handler);
      } catch (error) {
        running = false;
        await resetMetadata();
        throw error;
      }
      if (!running) {
        // stop() came during the start: it found no stream to stop.
        await first.stop();
        await resetMetadata();
        throw new Error(`Change source ${slot} was stopped while it started`);
      }
      stream = first;
      loop = keepStreaming(handler, first);
      watchLag();
      if (metadata !== null) await resumeTableSnapshots(metadata);
    },

    status,

    stop,

    async snapshotTable(name) {
      if (!running || metadata === null)
        throw new Error(`Change source ${slot} is not started: start it before snapshotTable`);
      const wanted = splitTableName(name);
      const published = (await readPublicationTables(metadata, publication)) ?? [];
      if (!published.some((t) => t.schema === wanted.schema && t.table === wanted.table))
        throw new ConfigurationError(
          `Table ${qualified(wanted.schema, wanted.table)} is not in publication ${publication}, so its changes are not streamed: ALTER PUBLICATION ${publication} ADD TABLE ${qualified(wanted.schema, wanted.table)}, then copy it`,
          { reason: 'publication-mismatch', publication, missing: [qualified(wanted.schema, wanted.table)] },
        );
      const [table] = await describeTables(metadata, [wanted]);
      await runTable(table!);
    },

    async drop() {
      await stop();
      const client = await connectMetadata();
      try {
        const info = await readSlot(client, slot);
        if (info?.active)
          throw new ConfigurationError(
            `Replication slot ${slot} is in use by another consumer (backend pid ${info.activePid}): stop it first`,
            {
              reason: 'slot-in-use',
              slot,
            },
          );
        await dropSlot(client, slot);
        await deleteSlotState(client, slot);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
