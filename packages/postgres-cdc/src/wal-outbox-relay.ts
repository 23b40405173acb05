import { ConfigurationError, type Transport, type TransportMessage } from '@causeway/core';
import pg from 'pg';
import type { ChangeTransaction, Row } from './change.ts';
import { parseLsn } from './lsn.ts';
import { createPostgresChangeSource, type PostgresChangeSource } from './postgres-change-source.ts';
import { createOutboxMarker } from './wal-outbox-marker.ts';
import { createOrderedPublisher } from './wal-outbox-publisher.ts';

export interface WalOutboxRelayOptions {
  connectionString: string;
  /** The PostgreSQL store's schema, whose `outbox` table is relayed. Default `causeway`. */
  schema?: string;
  transport: Transport;
  /**
   * The replication slot (and publication) the relay reads; slots belong to the server, so the
   * default names the database too: `<database>_<schema>_outbox`.
   */
  slot?: string;
  /** Most messages in one publish. Default 500. */
  batchSize?: number;
  /** How often a standby relay (the slot is read by another) tries to take over. Default 1 s. */
  standbyRetryMs?: number;
  /** A publish failed, or the stream broke: the relay goes on from the last acknowledged message. */
  onError?(error: unknown): void;
}

export interface WalOutboxRelayStatus {
  /** Reading the slot, or waiting for the relay that reads it to stop. */
  readonly role: 'active' | 'standby' | 'stopped';
  readonly slot: string;
  readonly published: number;
  /** WAL the slot holds back, in bytes (null until the slot exists). */
  readonly lagBytes: number | null;
  /** Outbox rows not yet marked published. */
  readonly backlog: number;
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,50}$/;

/** An inserted outbox row, as the stream or the initial snapshot delivers it. */
function toMessage(row: Row): TransportMessage {
  return {
    id: row.message_id as string,
    destination: row.destination as string,
    orderingKey: row.ordering_key as string,
    type: row.type as string,
    payload: row.payload,
  };
}

/**
 * Publishes a PostgreSQL store's outbox from the WAL instead of polling it: the outbox table's
 * inserts are read from a logical replication slot in commit order, published with broker
 * confirmation (transactions batched, one publish after the other), marked published in batches
 * behind the publishes, and the slot acknowledges a transaction only once its messages were
 * confirmed and its rows marked. A crash republishes from the last acknowledgement, with the
 * same message ids: consumers' inboxes drop the duplicates.
 *
 * One relay reads a slot at a time; another started on it waits as a standby and takes over
 * when the first stops or dies. Rows unpublished when the slot is first created (or re-created
 * after PostgreSQL removed its WAL) are published from the slot's snapshot.
 */
export function createWalOutboxRelay(options: WalOutboxRelayOptions) {
  const schema = options.schema ?? 'causeway';
  if (!schemaPattern.test(schema))
    throw new ConfigurationError(
      `Postgres schema "${schema}" is invalid: use lower-case letters, digits and _ (at most 51 characters)`,
      { schema },
    );
  if (options.slot !== undefined && !/^[a-z0-9_]{1,63}$/.test(options.slot))
    throw new ConfigurationError(
      `Replication slot name "${options.slot}" is invalid: use lower-case letters, digits and _ (at most 63 characters)`,
      { slot: options.slot },
    );
  const batchSize = options.batchSize ?? 500;
  const standbyRetryMs = options.standbyRetryMs ?? 1000;
  const publisher = createOrderedPublisher(options.transport, batchSize);
  const marker = createOutboxMarker(options.connectionString, schema, options.onError);
  let slot = options.slot ?? '';
  let source: PostgresChangeSource | null = null;
  let role: 'active' | 'standby' | 'stopped' = 'stopped';
  let running = false;
  let standby: Promise<void> | null = null;
  let wakeStandby: () => void = () => {};
  let published = 0;

  async function defaultSlot(): Promise<string> {
    const client = new pg.Client({ connectionString: options.connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      return `${rows[0]!.db}_${schema}_outbox`
        .toLowerCase()
        .replace(/[^a-z0-9_]/g, '_')
        .slice(0, 63);
    } finally {
      await client.end();
    }
  }

  /** After a failed publish: the stream that handed it over is replaying from this LSN. */
  let replayFrom: bigint | null = null;

  async function relay(transaction: ChangeTransaction): Promise<void> {
    const lsn = parseLsn(transaction.lsn);
    if (replayFrom !== null) {
      // A transaction the failed stream handed over after the failure: the next stream brings it
      // again, after the ones that failed. Publishing it now would let it overtake them.
      if (!transaction.snapshot && lsn > replayFrom)
        throw new Error('A publish failed: waiting for the stream to replay');
      replayFrom = null;
    }
    const rows = transaction.changes.filter(
      (change) => (change.op === 'c' || change.op === 'r') && change.after?.published_at == null,
    );
    if (rows.length === 0) return;
    const messages = rows.map((change) => toMessage(change.after!));
    try {
      await publisher.publish(messages);
    } catch (error) {
      if (replayFrom === null || lsn < replayFrom) replayFrom = lsn;
      throw error;
    }
    published += messages.length;
    await marker.mark(
      rows.map((change) => change.after!.sequence as string),
      transaction.snapshot ? null : transaction.xid,
    );
  }

  function createSource(): PostgresChangeSource {
    return createPostgresChangeSource({
      connectionString: options.connectionString,
      slot,
      publication: slot,
      tables: [`${schema}.outbox`],
      operations: ['insert'],
      // Transactions are published while later ones are read: the publisher keeps their order.
      handlerConcurrency: 4 * batchSize,
      onError: options.onError,
    });
  }

  const slotInUse = (error: unknown) =>
    error instanceof ConfigurationError && error.details?.reason === 'slot-in-use';

  /** Tries to read the slot; true once reading, false when another relay holds it. */
  async function takeSlot(): Promise<boolean> {
    const candidate = createSource();
    try {
      await candidate.start(relay);
    } catch (error) {
      if (slotInUse(error)) return false;
      throw error;
    }
    source = candidate;
    role = 'active';
    return true;
  }

  async function waitAsStandby(): Promise<void> {
    while (running && role === 'standby') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, standbyRetryMs);
        wakeStandby = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!running) return;
      try {
        await takeSlot();
      } catch (error) {
        options.onError?.(error);
      }
    }
  }

  return {
    /**
     * Starts reading the slot (creating it, with its publication, on first start), or waits as
     * a standby while another relay reads it. Rejects on bad configuration (wal_level below
     * logical, a schema without an outbox table), having created nothing.
     */
    async start(): Promise<void> {
      if (running) return;
      running = true;
      slot ||= await defaultSlot();
      if (await takeSlot()) return;
      role = 'standby';
      standby = waitAsStandby();
    },

    async stop(): Promise<void> {
      running = false;
      wakeStandby();
      await standby;
      standby = null;
      await source?.stop();
      source = null;
      await marker.close();
      role = 'stopped';
    },

    async status(): Promise<WalOutboxRelayStatus> {
      const current = await source?.status();
      const backlog = await marker.backlog();
      if (!running) await marker.close();
      return { role, slot, published, lagBytes: current?.lagBytes ?? null, backlog };
    },

    /** Stops, and removes the slot and its publication: the relay of a retired service. */
    async drop(): Promise<void> {
      await this.stop();
      slot ||= await defaultSlot();
      await createSource().drop();
      const client = new pg.Client({ connectionString: options.connectionString });
      await client.connect();
      try {
        await client.query(`DROP PUBLICATION IF EXISTS "${slot}"`);
      } finally {
        await client.end();
      }
    },
  };
}

export type WalOutboxRelay = ReturnType<typeof createWalOutboxRelay>;
