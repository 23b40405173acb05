import { partitionOf, type TransportMessage } from '@causeway/core';
import type Database from 'better-sqlite3';
import { retryWhileBusy } from './embedded-busy.ts';

/** One partition of one destination, as a group consumes it. */
export interface PartitionKey {
  readonly group: string;
  readonly destination: string;
  readonly partition: number;
}

/** A message handed to a subscriber, with the attempt already recorded in the cursor. */
export interface ClaimedMessage {
  readonly seq: number;
  readonly attempt: number;
  readonly message: TransportMessage;
}

/** An owned partition with something to deliver now or at `notBefore`. */
export interface ReadyPartition {
  readonly destination: string;
  readonly partition: number;
  readonly notBefore: number;
}

interface CursorRow {
  acked_seq: number;
  lease_owner: string | null;
  lease_until: number;
  in_flight_seq: number | null;
  attempt: number;
  not_before: number;
}

interface MessageRow {
  seq: number;
  destination: string;
  message_id: string;
  ordering_key: string;
  type: string;
  payload: string;
}

const cursorWhere = 'consumer_group = ? AND destination = ? AND partition = ?';

/**
 * Runs `work` with `synchronous = FULL`: its commit is synced to disk before it returns, so a
 * resolved publish survives a power loss. Cursor and lease writes stay at NORMAL (the file's
 * setting, durable across a crash of any process): a power loss may forget an ack or a claim,
 * which redelivers a message the consumer's inbox drops, and never loses one. An fsync costs
 * ~0.4 ms here and blocks the event loop, and there are two cursor writes per delivery.
 */
function synced<Args extends unknown[], Result>(db: Database.Database, work: (...args: Args) => Result) {
  const full = db.prepare('PRAGMA synchronous = FULL');
  const normal = db.prepare('PRAGMA synchronous = NORMAL');
  return (...args: Args): Result => {
    full.run();
    try {
      return work(...args);
    } finally {
      normal.run();
    }
  };
}

/**
 * The log and the cursors: appends (deduplicated by message id), finds owned partitions with work,
 * and moves a partition's cursor through claim → ack or retry, each write in one transaction.
 */
export function createEmbeddedLog(db: Database.Database, partitions: number, busyTimeoutMs: number) {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO transport_messages
       (destination, partition, message_id, ordering_key, type, payload, published_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const ready = db.prepare<[string, string, number, string], ReadyPartition>(
    `SELECT c.destination, c.partition, c.not_before AS notBefore
       FROM transport_cursors c
      WHERE c.consumer_group = ? AND c.lease_owner = ? AND c.lease_until > ?
        AND c.destination IN (SELECT value FROM json_each(?))
        AND (c.in_flight_seq IS NOT NULL OR EXISTS (
              SELECT 1 FROM transport_messages m
               WHERE m.destination = c.destination AND m.partition = c.partition AND m.seq > c.acked_seq))`,
  );
  const readCursor = db.prepare<[string, string, number], CursorRow>(
    `SELECT acked_seq, lease_owner, lease_until, in_flight_seq, attempt, not_before
       FROM transport_cursors WHERE ${cursorWhere}`,
  );
  const nextSeq = db
    .prepare<[string, number, number], number>(
      `SELECT seq FROM transport_messages WHERE destination = ? AND partition = ? AND seq > ?
        ORDER BY seq LIMIT 1`,
    )
    .pluck();
  const readMessage = db.prepare<[number], MessageRow>(
    'SELECT seq, destination, message_id, ordering_key, type, payload FROM transport_messages WHERE seq = ?',
  );
  const markInFlight = db.prepare(
    `UPDATE transport_cursors SET in_flight_seq = ?, attempt = ?, not_before = 0 WHERE ${cursorWhere}`,
  );
  const ack = db.prepare(
    `UPDATE transport_cursors SET acked_seq = @seq, in_flight_seq = NULL, attempt = 0, not_before = 0
      WHERE consumer_group = @group AND destination = @destination AND partition = @partition
        AND in_flight_seq = @seq`,
  );
  // Per partition, an index range count past the group's cursor: the in-flight message included.
  const pending = db
    .prepare<[string, string], number>(
      `SELECT count(*) FROM transport_cursors c
         JOIN transport_messages m
           ON m.destination = c.destination AND m.partition = c.partition AND m.seq > c.acked_seq
        WHERE c.consumer_group = ? AND c.destination = ?`,
    )
    .pluck();
  const delay = db.prepare(
    `UPDATE transport_cursors SET not_before = @notBefore
      WHERE consumer_group = @group AND destination = @destination AND partition = @partition
        AND in_flight_seq = @seq`,
  );

  /** Claims the partition's next delivery: the unacked one again (attempt + 1) or the next message. */
  function claimOne(key: PartitionKey, owner: string, now: number): ClaimedMessage | 'lost' | null {
    const cursor = readCursor.get(key.group, key.destination, key.partition);
    if (cursor === undefined || cursor.lease_owner !== owner || cursor.lease_until <= now) return 'lost';
    if (cursor.in_flight_seq !== null && cursor.not_before > now) return null;
    let seq = cursor.in_flight_seq;
    let attempt = cursor.attempt + 1;
    let row = seq === null ? undefined : readMessage.get(seq);
    if (row === undefined) {
      // Nothing in flight, or the message in flight is gone (retention deletes an unacked message
      // past maxAgeMs, and clears it from the cursor; this covers rows deleted by hand): the next.
      seq = nextSeq.get(key.destination, key.partition, cursor.acked_seq) ?? null;
      attempt = 1;
      row = seq === null ? undefined : readMessage.get(seq);
    }
    if (seq === null || row === undefined) return null;
    markInFlight.run(seq, attempt, key.group, key.destination, key.partition);
    return { seq, attempt, message: toTransportMessage(row) };
  }

  return {
    /** Appends in one transaction; a message id already in the log is dropped (dedupe). */
    append: retryWhileBusy(
      synced(
        db,
        db.transaction((messages: readonly TransportMessage[], now: number) => {
          for (const message of messages) {
            insert.run(
              message.destination,
              partitionOf(message.orderingKey, partitions),
              message.id,
              message.orderingKey,
              message.type,
              JSON.stringify(message.payload ?? null),
              now,
            );
          }
        }).immediate,
      ),
      busyTimeoutMs,
    ),

    /** The owner's partitions (of these destinations) that have an unacked or a new message. */
    readyPartitions: retryWhileBusy(
      (group: string, owner: string, destinations: readonly string[], now: number) =>
        ready.all(group, owner, now, JSON.stringify(destinations)),
      busyTimeoutMs,
    ),

    /** Claims several partitions in one transaction: one fsync however many partitions start. */
    claim: retryWhileBusy(
      db.transaction((keys: readonly PartitionKey[], owner: string, now: number) =>
        keys.map((key) => ({ key, claimed: claimOne(key, owner, now) })),
      ).immediate,
      busyTimeoutMs,
    ),

    /** Advances the cursor past `seq` if it is still the message in flight; false if not. */
    ack: retryWhileBusy(
      (key: PartitionKey, seq: number): boolean => ack.run({ ...key, seq }).changes === 1,
      busyTimeoutMs,
    ),

    /** Acks and claims the partition's next message in one transaction: one fsync per message. */
    ackAndClaimNext: retryWhileBusy(
      db.transaction((key: PartitionKey, seq: number, owner: string, now: number) => {
        ack.run({ ...key, seq });
        return claimOne(key, owner, now);
      }).immediate,
      busyTimeoutMs,
    ),

    /** Messages of the destination past the group's cursors: not acked yet, in flight or waiting. */
    pending: retryWhileBusy(
      (group: string, destination: string): number => pending.get(group, destination) ?? 0,
      busyTimeoutMs,
    ),

    /** Keeps `seq` in flight but not deliverable before `notBefore`: the partition waits. */
    retry: retryWhileBusy(
      (key: PartitionKey, seq: number, notBefore: number): boolean =>
        delay.run({ ...key, seq, notBefore }).changes === 1,
      busyTimeoutMs,
    ),
  };
}

export type EmbeddedLog = ReturnType<typeof createEmbeddedLog>;

function toTransportMessage(row: MessageRow): TransportMessage {
  return {
    id: row.message_id,
    destination: row.destination,
    orderingKey: row.ordering_key,
    type: row.type,
    payload: JSON.parse(row.payload),
  };
}
