import type { MessageId, Metadata } from '../message/index.ts';
import type { ReadConsistencyOptions, StoreReads } from './read-consistency.ts';

/**
 * A transaction of one service's database. Everything that must be atomic (events, outbox,
 * inbox, checkpoints, snapshots, read models, the service's own tables) goes through it.
 * SQL placeholders are `$1, $2, ...` on every backend.
 */
export interface Transaction {
  readonly storeName: string;
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  execute(sql: string, params?: readonly unknown[]): Promise<{ rowCount: number }>;
  /** Runs after a successful commit (never on rollback): wake readers, resolve waiters. */
  onCommit(callback: () => void): void;
}

export type ExpectedVersion = 'any' | 'noStream' | 'streamExists' | number;

/** An event as stored; `data` may still hold encrypted personal fields. */
export interface StoredEvent {
  id: MessageId;
  type: string;
  schemaVersion: number;
  streamId: string;
  streamPosition: number;
  globalPosition: number;
  correlationId: string | null;
  causationId: string | null;
  occurredAt: string;
  metadata: Metadata;
  data: unknown;
}

/** An event ready to store: everything but the positions. */
export type EventToStore = Omit<StoredEvent, 'streamPosition' | 'globalPosition'>;

/** A message for the outbox: published by a relay to `destination`, ordered by `orderingKey`. */
export interface OutboxMessage {
  id: MessageId;
  destination: string;
  orderingKey: string;
  type: string;
  /** The whole envelope (or command) as JSON. */
  payload: unknown;
}

export interface AppendRequest {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: readonly EventToStore[];
  /** Written in the same transaction as the events. */
  outbox?: readonly OutboxMessage[];
  /**
   * Also puts every appended event in the outbox for this destination, in the same transaction,
   * ordered by its stream, its envelope (positions included) as the payload: see
   * `appendedEventsOutbox`. Unlike `outbox`, it needs no positions up front, so such appends can
   * share a group commit.
   */
  publishTo?: string;
}

export interface AppendResult {
  streamId: string;
  /** The stream's version after the append (its last stream position). */
  nextExpectedVersion: number;
  /** Positions of the appended events, in order. */
  positions: ReadonlyArray<{ streamPosition: number; globalPosition: number }>;
  /** True when every event id was already in the stream: nothing was written. */
  deduplicated: boolean;
}

/**
 * Where a global-log reader stands. `position` is the last position delivered. `hold` is
 * backend state for a reader that found a gap it cannot yet prove final (PostgreSQL): once
 * proven, every missing position from `at` up to `through` (the highest position seen beside
 * the gap) is final together.
 */
export interface GlobalCursor {
  readonly position: number;
  readonly hold?: {
    readonly at: number;
    readonly horizon: string;
    readonly since: number;
    readonly through?: number;
  };
}

export interface GlobalBatch {
  events: StoredEvent[];
  cursor: GlobalCursor;
  /** Milliseconds this reader has been held back by an unfinished transaction (0 if not). */
  heldBackMs: number;
  /** Why it is held back, for operators (e.g. "gap at 1041 behind transaction 7733"). */
  heldBackReason?: string;
}

export interface ReadStreamOptions {
  direction: 'forward' | 'backward';
  /** Forward: first stream position to return (>= 1). Backward: last one (inclusive). */
  fromVersion: number;
  limit: number;
  /** Only events with occurredAt <= this ISO time (temporal reads). */
  occurredUntil?: string;
}

/**
 * The event log of one database. Streams are append-only; per-stream positions are 1, 2, 3...;
 * global positions increase with each append but may have gaps.
 */
export interface EventLog {
  /**
   * Appends in the caller's transaction. Throws ConcurrencyError on a version mismatch.
   * If every event id is already in this stream, writes nothing and returns the original
   * positions with `deduplicated: true`; an id used in another stream is an IdempotencyConflictError.
   */
  append(tx: Transaction, request: AppendRequest): Promise<AppendResult>;
  /**
   * Runs many independent appends in ONE transaction (group commit). Each keeps its own
   * version check: a failing one writes nothing and gets its error, the others commit.
   */
  appendMany(requests: readonly AppendRequest[]): Promise<Array<AppendResult | Error>>;
  /**
   * Throws when appendMany cannot run from the caller's context (SQLite: inside an open
   * transaction of the same store, where it would wait for itself). Core's group committer calls
   * it before queueing, so that a misplaced call fails alone.
   */
  assertCanAppendMany?(): void;
  /** 0 when the stream does not exist. */
  streamVersion(tx: Transaction | null, streamId: string): Promise<number>;
  readStream(tx: Transaction | null, streamId: string, options: ReadStreamOptions): Promise<StoredEvent[]>;
  /**
   * Events after `cursor.position`, in global-position order, never skipping an event whose
   * transaction commits later with a lower position (the reader waits for it instead).
   */
  readAll(cursor: GlobalCursor, options: { limit: number }): Promise<GlobalBatch>;
  /** Highest global position committed so far (0 if empty). */
  headPosition(): Promise<number>;
  /** The events of one flow (correlation id), in global-position order, at most `limit`. */
  readByCorrelation(correlationId: string, options: { limit: number }): Promise<StoredEvent[]>;
  /**
   * How many streams the log holds and how many events they hold together, for a shard's skew
   * report. It reads every event row: an operator's question, not a hot path.
   */
  census(): Promise<{ streams: number; events: number }>;
}

export interface ClaimedMessage extends OutboxMessage {
  /** Outbox order (increasing within the database). */
  sequence: number;
  attempts: number;
  createdAt: string;
}

/**
 * A relay's offer to take messages straight from the transactions that enqueue them, instead of
 * claiming them from the table afterwards (see `OutboxStore.handOffEnqueued`).
 */
export interface OutboxHandoff {
  /** The lease owner the handed messages are written with. */
  readonly owner: string;
  readonly leaseMs: number;
  /** Called once their transaction committed, in commit order; the messages in outbox order. */
  take(messages: OutboxMessage[]): void;
}

/** Messages written in the caller's transaction; published at least once, in order per key. */
export interface OutboxStore {
  enqueue(tx: Transaction, messages: readonly OutboxMessage[]): Promise<void>;
  /**
   * Optional, for stores whose claim costs a round trip and more: from now on, a message this
   * store enqueues whose ordering key has no unpublished message held by anyone but
   * `handoff.owner` is written already leased to that owner (attempts 1), and given to
   * `handoff.take` when its transaction commits, so the relay publishes it without a claim. The
   * other messages wait for a claim as before. `null` stops the handoff; the last call wins.
   */
  handOffEnqueued?(handoff: OutboxHandoff | null): void;
  /**
   * Leases unpublished messages in sequence order to `owner`. Two owners never hold the same
   * message, and no message is leased while an earlier unpublished message with the same
   * ordering key is leased by another owner. An expired lease can be taken over.
   */
  claimBatch(options: { owner: string; limit: number; leaseMs: number }): Promise<ClaimedMessage[]>;
  /** Marks messages published; only the lease holder's marks count. Returns how many were marked. */
  markPublished(owner: string, ids: readonly MessageId[]): Promise<number>;
  /** Gives leased messages back (e.g. the broker refused them); attempts stay counted. */
  release(owner: string, ids: readonly MessageId[]): Promise<void>;
  backlog(): Promise<{ count: number; oldestAgeMs: number }>;
  /** Published messages still kept (retention deletes them: see `applyRetention`), and the oldest's age. */
  countPublished(): Promise<KeptRows>;
  /** Deletes published messages older than the cutoff; returns how many. */
  prunePublished(olderThan: Date): Promise<number>;
}

/** How many rows a table keeps, and the age of the oldest (0 when there is none). */
export interface KeptRows {
  count: number;
  oldestAgeMs: number;
}

export interface InboxArrival {
  messageId: MessageId;
  orderingKey: string;
}

export interface InboxAdmission {
  /** The arrivals recorded now: not seen before and not blocked. */
  recorded: Set<MessageId>;
  /** The arrivals' keys that an open dead letter blocks. */
  blockedKeys: Set<string>;
}

/** Receipts of handled messages; recorded in the handler's transaction. */
export interface InboxStore {
  /** True if this is the first receipt; false if `(consumer, messageId)` was already recorded. */
  record(tx: Transaction, consumer: string, messageId: MessageId): Promise<boolean>;
  /** `record` for many messages in one statement; returns the ids recorded now (the new ones). */
  recordMany(tx: Transaction, consumer: string, messageIds: readonly MessageId[]): Promise<Set<MessageId>>;
  /**
   * A consumer's receipt step in one statement: `recordMany` for the arrivals whose ordering key
   * no open (dead or parked) dead letter of this consumer blocks, and the blocked keys
   * (`DeadLetterStore.blockedKeys`). A blocked arrival gets no receipt, so a redrive can handle it.
   */
  admit(tx: Transaction, consumer: string, arrivals: readonly InboxArrival[]): Promise<InboxAdmission>;
  has(tx: Transaction | null, consumer: string, messageId: MessageId): Promise<boolean>;
  /** Receipts kept, of every consumer (retention deletes them: see `applyRetention`), and the oldest's age. */
  countReceipts(): Promise<KeptRows>;
  /** Deletes receipts older than the cutoff; returns how many. */
  prune(olderThan: Date): Promise<number>;
}

export interface Checkpoint {
  position: number;
  /** Which generation of a projection's read model is live (rebuilds write the next one). */
  generation: number;
}

export interface CheckpointStore {
  load(tx: Transaction | null, name: string): Promise<Checkpoint | null>;
  /**
   * Saves the checkpoint. With `from`, only if the saved one still is `from` (position and
   * generation), waiting for a transaction that is changing it; answers whether it saved. Several
   * processes applying one projection use it to apply each batch once.
   */
  save(
    tx: Transaction,
    name: string,
    checkpoint: Checkpoint,
    options?: { from?: Checkpoint },
  ): Promise<boolean>;
  list(): Promise<Array<Checkpoint & { name: string; updatedAt: string }>>;
  delete(tx: Transaction, name: string): Promise<void>;
}

export interface Snapshot {
  streamId: string;
  aggregateType: string;
  /** The stream version the state was taken at. */
  streamVersion: number;
  /** Version of the evolve function that produced it; a mismatch means "ignore". */
  snapshotVersion: number;
  /** The subject whose personal data it may contain (deleted when that subject is forgotten). */
  subjectId: string | null;
  state: unknown;
  takenAt: string;
}

export interface SnapshotStore {
  load(tx: Transaction | null, streamId: string): Promise<Snapshot | null>;
  /** Keeps the snapshot with the highest stream version; an older one never replaces it. */
  save(tx: Transaction | null, snapshot: Snapshot): Promise<void>;
  deleteBySubject(tx: Transaction, subjectId: string): Promise<number>;
}

/**
 * Per-subject encryption keys for crypto-shredding. A destroyed key leaves a tombstone so that
 * no new key is ever made for a forgotten subject.
 */
export interface KeyStore {
  /** Existing keys of these subjects; forgotten subjects map to null, unknown ones are absent. */
  getKeys(tx: Transaction | null, subjectIds: readonly string[]): Promise<Map<string, Buffer | null>>;
  /** Stores `key` unless the subject has one (then returns that) or was forgotten (then null). */
  getOrCreateKey(tx: Transaction | null, subjectId: string, key: Buffer): Promise<Buffer | null>;
  /** Destroys the key (overwriting it on disk where the backend can) and leaves a tombstone. */
  destroyKey(tx: Transaction, subjectId: string): Promise<boolean>;
}

/** JSON documents in named collections: read models that need no table design. */
export interface DocumentStore {
  get<T = unknown>(tx: Transaction | null, collection: string, id: string): Promise<T | null>;
  put(tx: Transaction, collection: string, id: string, document: unknown): Promise<void>;
  delete(tx: Transaction, collection: string, id: string): Promise<boolean>;
  /** Upserts many documents in one statement (or a few); a later entry for the same id wins. */
  putMany(
    tx: Transaction,
    collection: string,
    entries: ReadonlyArray<{ id: string; document: unknown }>,
  ): Promise<void>;
  deleteMany(tx: Transaction, collection: string, ids: readonly string[]): Promise<number>;
  /** Documents in id order; `where` matches top-level fields by equality. */
  find<T = unknown>(
    tx: Transaction | null,
    collection: string,
    options?: { where?: Record<string, string | number | boolean>; limit?: number; afterId?: string },
  ): Promise<Array<{ id: string; document: T }>>;
  count(tx: Transaction | null, collection: string): Promise<number>;
  dropCollection(tx: Transaction, collection: string): Promise<number>;
}

/** `dead`: failed past its retries; `parked`: held behind a dead message of the same key. */
export type DeadLetterStatus = 'dead' | 'parked' | 'redriven' | 'discarded';

export interface DeadLetter {
  /** Arrival order in this database; redrive replays a key's entries in this order. */
  sequence: number;
  consumer: string;
  messageId: MessageId;
  orderingKey: string;
  /** The whole transport message as JSON. */
  message: unknown;
  reason: string;
  attempts: number;
  firstSeenAt: string;
  lastSeenAt: string;
  status: DeadLetterStatus;
}

/**
 * Messages a consumer could not handle, kept in the consumer's own database with the reason. While
 * a key has an open (dead or parked) entry, that key's later messages are parked behind it, so a
 * redrive replays them in order.
 */
export interface DeadLetterStore {
  /** Records a dead or parked message; a repeat of `(consumer, messageId)` updates reason, attempts and last seen. */
  put(
    tx: Transaction | null,
    entry: Omit<DeadLetter, 'sequence' | 'status' | 'firstSeenAt' | 'lastSeenAt'> & {
      status: 'dead' | 'parked';
    },
  ): Promise<void>;
  /** True while the key has a dead or parked entry for this consumer. */
  isKeyBlocked(tx: Transaction | null, consumer: string, orderingKey: string): Promise<boolean>;
  /** `isKeyBlocked` for many keys in one query: the blocked ones. */
  blockedKeys(
    tx: Transaction | null,
    consumer: string,
    orderingKeys: readonly string[],
  ): Promise<Set<string>>;
  /** The key's open entries, in arrival order. */
  openForKey(tx: Transaction | null, consumer: string, orderingKey: string): Promise<DeadLetter[]>;
  get(tx: Transaction | null, sequence: number): Promise<DeadLetter | null>;
  list(options?: { consumer?: string; status?: DeadLetterStatus; limit?: number }): Promise<DeadLetter[]>;
  setStatus(tx: Transaction | null, sequence: number, status: DeadLetterStatus): Promise<void>;
}

/** `running` and `compensating` are live; the other three are terminal (dead until redriven). */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'dead';

export const sagaStatuses: readonly SagaStatus[] = [
  'running',
  'compensating',
  'completed',
  'compensated',
  'dead',
];

export type SagaStepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'skipped';

/** One step's history in a saga instance: attempts, when it started and ended, the last error. */
export interface SagaStepRecord {
  name: string;
  status: SagaStepStatus;
  attempts: number;
  compensationAttempts: number;
  /** Compensation attempts made before the last redrive: the retry limit counts from here. */
  compensationFloor?: number;
  /** The step's own start and end (its success, or its final failure); a compensation keeps them. */
  startedAt: string | null;
  endedAt: string | null;
  /** The compensation's first attempt and its success (absent on records written before 0.1 kept them). */
  compensationStartedAt?: string | null;
  compensationEndedAt?: string | null;
  error: string | null;
}

/** A saga instance as stored: its data, where it stands, and each step's history. */
export interface SagaInstance {
  sagaId: string;
  sagaName: string;
  status: SagaStatus;
  data: unknown;
  /** The step being invoked (running) or compensated (compensating). */
  stepIndex: number;
  steps: SagaStepRecord[];
  /**
   * When the runtime must look at the instance without a reply (a step's timeout, a retry's
   * delay); null when it only waits for a reply or is terminal. A durable timer: it survives restarts.
   */
  wakeAt: string | null;
  /** Why it failed, is compensating or is dead; null on the happy path. */
  reason: string | null;
  /** Carried by every command and reply, so one flow can be traced across services. */
  correlationId: string;
  /**
   * The W3C trace context (`traceparent`, `tracestate`) of the work that started the saga, when
   * tracing was on: a step its timer fires (a timeout, a retry's delay) continues that trace.
   */
  traceContext?: Readonly<Record<string, string>>;
  /** Optimistic concurrency: 1 after insert, +1 per update. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Saga instances in the orchestrating service's database, written in the caller's transaction. */
export interface SagaStore {
  /** Stores a new instance at version 1; an existing id raises ConcurrencyError (nothing written). */
  insert(
    tx: Transaction,
    instance: Omit<SagaInstance, 'version' | 'createdAt' | 'updatedAt'>,
  ): Promise<SagaInstance>;
  get(tx: Transaction | null, sagaId: string): Promise<SagaInstance | null>;
  /**
   * Writes the instance if it is still at `instance.version` and returns it at the next version;
   * raises ConcurrencyError (writing nothing) if another transaction changed it first.
   */
  update(tx: Transaction, instance: SagaInstance): Promise<SagaInstance>;
  /** Live instances whose `wakeAt` has come, earliest first. */
  due(now: Date, limit: number): Promise<SagaInstance[]>;
  /** Newest first; `correlationId` finds the instances of one flow. */
  list(options?: {
    sagaName?: string;
    status?: SagaStatus;
    correlationId?: string;
    limit?: number;
  }): Promise<SagaInstance[]>;
  /** Every status with its count (0 included). */
  countByStatus(sagaName?: string): Promise<Record<SagaStatus, number>>;
}

/** What core reads of a store to decide how to use it. */
export interface StoreCapabilities {
  /**
   * Several transactions of one process may write at once. Core then runs two consumer
   * transactions (and two appendMany calls) at once by default, one instead of two otherwise.
   */
  readonly concurrentWriters: boolean;
  /** Which SQL the store speaks, for tools that query it directly (doctor, metrics). */
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * How core's group committer gathers the appends made outside a transaction into appendMany
   * calls: at most `maxRequests` per call (default 256) and `concurrency` calls at once (default
   * from `concurrentWriters`).
   */
  readonly appendBatching?: { readonly maxRequests?: number; readonly concurrency?: number };
}

/**
 * One service's database. A plain object: name, capabilities, transaction(work), the ports, close().
 * Adapters map driver errors to Causeway errors; nothing driver-specific leaks out.
 */
export interface Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /** Runs `work` in one transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  readonly events: EventLog;
  readonly outbox: OutboxStore;
  readonly inbox: InboxStore;
  readonly checkpoints: CheckpointStore;
  readonly snapshots: SnapshotStore;
  readonly keys: KeyStore;
  readonly documents: DocumentStore;
  readonly deadLetters: DeadLetterStore;
  readonly sagas: SagaStore;
  /**
   * Calls `listener` when new events or outbox rows may have been committed (any process, when
   * supported). With `{ only: 'outbox' }` the store may spare the listener the wakes of this
   * process's commits that left no outbox row to claim (a relay's claim finds nothing there).
   */
  subscribeToChanges(listener: () => void, options?: { only?: 'outbox' }): () => void;
  /**
   * Runs reads at a consistency (read-consistency.ts): `strong` on the primary, `eventual` on a
   * replica that answers, `session` on a replica that has replayed the token's write within a
   * bounded wait, else on the primary. A replica that fails under a read leaves it to the primary.
   * A store without replicas runs every read on itself.
   */
  read<T>(options: ReadConsistencyOptions, work: (reads: StoreReads) => Promise<T>): Promise<T>;
  /**
   * Where the primary's log stands now, for a store with replicas: read after a commit, it is at or
   * past that commit, and a consistency token carrying it lets a session read use a replica.
   */
  sessionPosition?(): Promise<bigint>;
  /**
   * Makes deleted data physically unreadable where the backend can (SQLite: WAL checkpoint and
   * truncate, with secure_delete on). Called after a subject is forgotten.
   */
  purgeDeletedData?(): Promise<void>;
  close(): Promise<void>;
}
