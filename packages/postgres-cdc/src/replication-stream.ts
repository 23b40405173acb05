import pg from 'pg';
import { PgoutputPlugin } from 'pg-logical-replication';
import type { ChangeTransaction } from './change.ts';
import { formatLsn, parseLsn } from './lsn.ts';
import type { createTransactionAssembler } from './transaction-assembler.ts';

export interface ReplicationStreamOptions {
  connectionString: string;
  slot: string;
  publication: string;
  assembler: ReturnType<typeof createTransactionAssembler>;
  /** Resolves once the transaction's effects are durable; only then is its LSN acknowledged. */
  onTransaction(transaction: ChangeTransaction): Promise<void>;
  /** Received but not yet handled messages past which the socket is paused. */
  maxQueued?: number;
  /**
   * Transactions handed to `onTransaction` before the earlier ones resolved. Each is still
   * acknowledged only once it and every earlier one resolved. Default 1.
   */
  inFlight?: number;
}

export interface ReplicationStream {
  /** The end LSN of the last transaction handled (acknowledged to the slot). */
  applied(): bigint;
  /** Settles when the stream ends: rejects with the error that ended it. */
  readonly ended: Promise<void>;
  stop(): Promise<void>;
}

const xLogData = 0x77; // 'w'
const keepalive = 0x6b; // 'k'
const postgresEpochMicros = 946_684_800_000_000n;

/**
 * Streams pgoutput from a slot and acknowledges a transaction's end LSN only after its handler
 * resolved. Messages are handled one at a time, keepalives included, so a keepalive found with no
 * transaction open means everything before it was handled, and its position may be confirmed:
 * that is how the slot advances while the captured tables are quiet but the database is not.
 * (pg-logical-replication's own service acknowledges the last received LSN on a timer, and one
 * byte past the commit: neither is safe here, so only its pgoutput parser is used.)
 */
export async function openReplicationStream(options: ReplicationStreamOptions): Promise<ReplicationStream> {
  const client = new pg.Client({
    connectionString: options.connectionString,
    replication: 'database',
  } as pg.ClientConfig);
  let failure: unknown = null;
  client.on('error', (error) => {
    failure ??= error;
  });
  await client.connect();
  const connection = (client as unknown as { connection: ReplicationConnection }).connection;
  const plugin = new PgoutputPlugin({
    protoVersion: 1,
    publicationNames: [options.publication],
    messages: true,
  });
  const maxQueued = options.maxQueued ?? 10_000;
  const maxInFlight = Math.max(1, options.inFlight ?? 1);
  /** Handed to onTransaction and not yet acknowledged, in commit order. */
  const inFlight: Array<{ lsn: bigint; done: boolean; settled: Promise<void> }> = [];
  let applied = 0n;
  let queued = 0;
  let paused = false;
  let stopping = false;
  let closed = false;
  let chain: Promise<void> = Promise.resolve();

  function confirm(lsn: bigint): void {
    if (lsn <= 0n || closed) return;
    const status = Buffer.alloc(34);
    status[0] = 0x72; // 'r': standby status update
    status.writeBigUInt64BE(lsn, 1); // written
    status.writeBigUInt64BE(lsn, 9); // flushed: the slot's confirmed_flush_lsn
    status.writeBigUInt64BE(lsn, 17); // applied
    status.writeBigUInt64BE(BigInt(Date.now()) * 1000n - postgresEpochMicros, 25);
    connection.sendCopyFromChunk(status);
  }

  let confirmScheduled = false;

  /** Acknowledges the longest run of resolved transactions at the head. */
  function acknowledgeResolved(): void {
    let advanced = false;
    while (inFlight.length > 0 && inFlight[0]!.done) {
      applied = inFlight.shift()!.lsn;
      advanced = true;
    }
    if (advanced) confirmSoon();
  }

  /**
   * One status update for whatever was acknowledged in this turn of the event loop: transactions
   * resolve one microtask after another when a batch is confirmed, and a busy server sends a
   * keepalive after nearly every transaction. A write for each cost the WAL relay a sixth of its
   * CPU.
   */
  function confirmSoon(): void {
    if (confirmScheduled) return;
    confirmScheduled = true;
    setImmediate(() => {
      confirmScheduled = false;
      confirm(applied);
    });
  }

  function track(lsn: bigint, handled: Promise<void>): void {
    const entry = { lsn, done: false, settled: handled };
    entry.settled = handled.then(
      () => {
        entry.done = true;
        acknowledgeResolved();
      },
      (error) => fail(error),
    );
    inFlight.push(entry);
  }

  async function handle(chunk: Buffer): Promise<void> {
    if (chunk[0] === xLogData) {
      const result = await options.assembler.accept(plugin.parse(chunk.subarray(25)));
      if (result === null) return;
      const lsn = result === 'empty' ? chunk.readBigUInt64BE(1) : parseLsn(result.lsn);
      track(lsn, result === 'empty' ? Promise.resolve() : options.onTransaction(result));
      // Waits for the oldest while too many are in flight (with the default of 1: for this one).
      while (inFlight.length >= maxInFlight && !stopping) await inFlight[0]!.settled;
    } else if (chunk[0] === keepalive) {
      const serverPosition = chunk.readBigUInt64BE(1);
      const idle = inFlight.length === 0 && !options.assembler.isInsideTransaction();
      if (idle && serverPosition > applied) applied = serverPosition;
      const replyRequested = chunk[17] === 1;
      if (replyRequested) confirm(applied);
      else confirmSoon();
    }
  }

  async function fail(error: unknown): Promise<void> {
    failure ??= error;
    rejectEnded(error);
    stopping = true;
    // What resolved before the failure is acknowledged: a restart must not deliver it again.
    if (confirmScheduled) confirm(applied);
    closed = true; // a later transaction that resolves must not be acknowledged past this one
    await client.end().catch(() => {});
  }

  let rejectEnded: (error: unknown) => void = () => {};
  connection.on('copyData', ({ chunk: received }: { chunk: Buffer }) => {
    // pg hands a view into its read buffer, which the next socket read may overwrite: the
    // message is handled later, so it is copied now.
    const chunk = Buffer.from(received);
    queued += 1;
    if (queued >= maxQueued && !paused) {
      paused = true;
      connection.stream.pause();
    }
    chain = chain.then(async () => {
      if (stopping) return;
      try {
        await handle(chunk);
      } catch (error) {
        await fail(error);
        return;
      }
      queued -= 1;
      if (paused && queued < maxQueued / 2) {
        paused = false;
        connection.stream.resume();
      }
    });
  });

  const streaming = plugin.start(client, options.slot, formatLsn(applied)) as Promise<unknown>;
  const ended = new Promise<void>((resolve, reject) => {
    rejectEnded = reject;
    streaming.then(
      () =>
        stopping ? resolve() : reject(failure ?? new Error(`Replication of slot ${options.slot} ended`)),
      (error) => (stopping && failure === null ? resolve() : reject(failure ?? error)),
    );
  });
  ended.catch(() => {});

  return {
    applied: () => applied,
    ended,
    async stop() {
      if (stopping) return;
      stopping = true;
      await chain.catch(() => {});
      // What was handed over is acknowledged once it resolves, before the connection closes.
      await Promise.all(inFlight.map((entry) => entry.settled));
      confirm(applied);
      closed = true;
      await client.end().catch(() => {});
      await ended.catch(() => {});
    },
  };
}

interface ReplicationConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}
