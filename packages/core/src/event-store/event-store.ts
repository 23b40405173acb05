import { createGroupCommitter } from '../batching/group-committer.ts';
import { encodeConsistencyToken } from '../consistency/index.ts';
import { createPersonalDataCipher, type PersonalDataCipher } from '../crypto/index.ts';
import { InvalidArgumentError } from '../errors/index.ts';
import { assertIsoTime, assertLimit, assertPosition, assertStreamId } from '../guards/index.ts';
import {
  type AnyEventDefinition,
  type EventRegistry,
  type Message,
  type MessageOf,
  type Metadata,
  type NewMessage,
  type NewMessageOf,
  newMessageId,
} from '../message/index.ts';
import type {
  AppendRequest,
  AppendResult,
  EventToStore,
  ExpectedVersion,
  GlobalBatch,
  GlobalCursor,
  KeyStore,
  Store,
  StoredEvent,
  Transaction,
} from '../store/index.ts';
import { inSpan, spanAttributes, withTraceContext } from '../tracing/index.ts';
import { decodeEvents } from './event-codec.ts';

/** Runs inside the append transaction with the appended events (inline projections). */
export type InlineHandler = (tx: Transaction, events: readonly Message[]) => Promise<void>;

export interface AppendOptions {
  expectedVersion?: ExpectedVersion;
  correlationId?: string;
  causationId?: string;
  metadata?: Metadata;
  /** Append inside this transaction (with the caller's other writes) instead of a new one. */
  tx?: Transaction;
  /** Also enqueue every appended event to this destination, in the same transaction. */
  publishTo?: string;
}

export interface AppendOutcome<Event extends Message = Message> extends AppendResult {
  events: Event[];
  /** Present it to a read to see this write (read-your-writes). */
  consistencyToken: string;
}

export interface ReadOptions {
  direction?: 'forward' | 'backward';
  fromVersion?: number;
  /** One page of at most this many events; without it the whole stream (from `fromVersion`) is read. */
  limit?: number;
  tx?: Transaction | null;
  /** Only events that occurred at or before this ISO time. */
  occurredUntil?: string;
}

/** The system event appended when a subject is forgotten; projections redact on it. */
export const subjectForgottenType = 'causeway.SubjectForgotten';

/**
 * The event store of one service. `Definition` (from its registry) types what is appended and
 * read: an unknown type or data of the wrong shape fails to compile, and is refused at run time.
 */
export interface EventStore<Definition extends AnyEventDefinition = AnyEventDefinition> {
  readonly store: Store;
  readonly registry: EventRegistry<Definition>;
  readonly cipher: PersonalDataCipher;
  /**
   * Appends events atomically with optimistic concurrency. Without `tx`, concurrent appends are
   * group-committed (each keeps its own check and error). Re-appending the same event ids is a no-op.
   */
  appendToStream(
    streamId: string,
    events: readonly NewMessageOf<Definition>[],
    options?: AppendOptions,
  ): Promise<AppendOutcome<MessageOf<Definition>>>;
  /** The stream's events in order: all of them, or one page when `limit` is given. */
  readStream(streamId: string, options?: ReadOptions): Promise<MessageOf<Definition>[]>;
  /** The global log in order, never skipping a late-committing event (see docs/design/store.md). */
  readAll(
    cursor: GlobalCursor,
    options: { limit: number },
  ): Promise<Omit<GlobalBatch, 'events'> & { events: MessageOf<Definition>[] }>;
  decode(rows: Parameters<typeof decodeEvents>[0], tx?: Transaction | null): Promise<Message[]>;
  /** Destroys the subject's key and its snapshots, and tells projections to redact it. */
  forgetSubject(subjectId: string): Promise<void>;
  addInlineHandler(handler: InlineHandler): void;
}

export interface EventStoreOptions<Definition extends AnyEventDefinition = AnyEventDefinition> {
  store: Store;
  registry: EventRegistry<Definition>;
  /** Defaults to the store's own key table. */
  keys?: KeyStore;
  clock?: () => Date;
}

const pageSize = 1000;

export function createEventStore<Definition extends AnyEventDefinition = AnyEventDefinition>(
  options: EventStoreOptions<Definition>,
): EventStore<Definition> {
  return createUntypedEventStore(options as EventStoreOptions) as unknown as EventStore<Definition>;
}

/** The implementation works on plain envelopes; the typed face above is for callers. */
function createUntypedEventStore(options: EventStoreOptions): EventStore {
  const { store, registry } = options;
  const clock = options.clock ?? (() => new Date());
  const cipher = createPersonalDataCipher(registry, options.keys ?? store.keys);
  const inlineHandlers: InlineHandler[] = [];
  // Appends outside a transaction: gathered per turn of the event loop under load, one
  // appendMany (one commit) per batch. The only group commit for appends: adapters do not batch.
  const { appendBatching, concurrentWriters } = store.capabilities;
  const appendGrouped = createGroupCommitter<AppendRequest, AppendResult>(
    (batch) => store.events.appendMany(batch),
    {
      maxBatch: appendBatching?.maxRequests ?? 256,
      maxConcurrentFlushes: appendBatching?.concurrency ?? (concurrentWriters ? 2 : 1),
      gatherPerTurn: true,
      admit: () => store.events.assertCanAppendMany?.(),
    },
  );

  async function toStored(
    tx: Transaction | null,
    streamId: string,
    events: readonly NewMessage[],
    o: AppendOptions,
  ) {
    if (!Array.isArray(events) || events.length === 0 || events.length > 10_000) {
      throw new InvalidArgumentError(
        'events',
        `Append to ${streamId} needs 1 to 10,000 events, got ${Array.isArray(events) ? events.length : typeof events}`,
      );
    }
    const now = clock().toISOString();
    const stored: EventToStore[] = [];
    for (const event of events) {
      const { version, data } = registry.validate(event?.type, event?.data);
      if (event.occurredAt !== undefined) assertIsoTime(event.occurredAt, 'occurredAt');
      // Only types with personal fields pay for a key lookup (and an await).
      const hasPersonalData = registry.get(event.type)?.personal !== undefined;
      stored.push({
        id: event.id ?? newMessageId(),
        type: event.type,
        schemaVersion: version,
        streamId,
        correlationId: o.correlationId ?? null,
        causationId: o.causationId ?? null,
        occurredAt: event.occurredAt ?? now,
        metadata: withTraceContext(o.metadata || event.metadata ? { ...o.metadata, ...event.metadata } : {}),
        data: hasPersonalData ? await cipher.encrypt(tx, event.type, data) : data,
      });
    }
    return stored;
  }

  function toMessages(stored: EventToStore[], result: AppendResult, plain: readonly NewMessage[]): Message[] {
    return stored.map((event, index) => ({
      ...event,
      data: plain[index]!.data,
      streamPosition: result.positions[index]!.streamPosition,
      globalPosition: result.positions[index]!.globalPosition,
    }));
  }

  async function appendInTransaction(
    tx: Transaction,
    request: AppendRequest,
    plain: readonly NewMessage[],
    publishTo?: string,
  ) {
    // The outbox rows carry the stored form: personal fields stay encrypted on the wire.
    const result = await store.events.append(tx, publishTo ? { ...request, publishTo } : request);
    const messages = toMessages([...request.events], result, plain);
    if (!result.deduplicated) {
      for (const handler of inlineHandlers) await handler(tx, messages);
    }
    return { result, messages };
  }

  async function appendNow(streamId: string, events: readonly NewMessage[], appendOptions: AppendOptions) {
    assertStreamId(streamId);
    const expectedVersion = appendOptions.expectedVersion ?? 'any';
    if (typeof expectedVersion === 'number') assertPosition(expectedVersion, 'expectedVersion');
    else if (!['any', 'noStream', 'streamExists'].includes(expectedVersion)) {
      throw new InvalidArgumentError(
        'expectedVersion',
        `expectedVersion must be a number, 'any', 'noStream' or 'streamExists', got ${String(expectedVersion)}`,
      );
    }
    const stored = await toStored(appendOptions.tx ?? null, streamId, events, appendOptions);
    const request: AppendRequest = { streamId, expectedVersion, events: stored };
    // publishTo alone does not need one: the store writes the outbox rows in the same commit,
    // so such appends still share a group commit.
    const needsTransaction = appendOptions.tx || inlineHandlers.length > 0;
    let result: AppendResult;
    let messages: Message[];
    if (needsTransaction) {
      const run = (tx: Transaction) => appendInTransaction(tx, request, events, appendOptions.publishTo);
      ({ result, messages } = appendOptions.tx ? await run(appendOptions.tx) : await store.transaction(run));
    } else {
      result = await appendGrouped(
        appendOptions.publishTo ? { ...request, publishTo: appendOptions.publishTo } : request,
      );
      messages = toMessages(stored, result, events);
    }
    const last = result.positions[result.positions.length - 1]!;
    const mark = { streamId, version: last.streamPosition };
    // Committed here (not in the caller's transaction): the log's position now is past the
    // commit, and a session read may use a replica that has replayed that far.
    const position = appendOptions.tx || !store.sessionPosition ? undefined : await store.sessionPosition();
    return { ...result, events: messages, consistencyToken: encodeConsistencyToken([mark], position) };
  }

  return {
    store,
    registry,
    cipher,

    appendToStream(streamId, events, appendOptions = {}) {
      return inSpan(
        'causeway.append',
        () => ({
          attributes: {
            [spanAttributes.streamId]: streamId,
            [spanAttributes.batchCount]: Array.isArray(events) ? events.length : 0,
            ...(appendOptions.correlationId
              ? { [spanAttributes.correlationId]: appendOptions.correlationId }
              : {}),
          },
        }),
        () => appendNow(streamId, events, appendOptions),
      );
    },

    async readStream(streamId, readOptions = {}) {
      assertStreamId(streamId, { allowSystem: true });
      const direction = readOptions.direction ?? 'forward';
      if (readOptions.limit !== undefined) assertLimit(readOptions.limit);
      const fromVersion = readOptions.fromVersion ?? (direction === 'forward' ? 1 : Number.MAX_SAFE_INTEGER);
      assertPosition(fromVersion, 'fromVersion');
      if (readOptions.occurredUntil !== undefined) assertIsoTime(readOptions.occurredUntil, 'occurredUntil');
      const tx = readOptions.tx ?? null;
      const readPage = (from: number, limit: number) =>
        store.events.readStream(tx, streamId, {
          direction,
          fromVersion: from,
          limit,
          ...(readOptions.occurredUntil ? { occurredUntil: readOptions.occurredUntil } : {}),
        });
      if (readOptions.limit !== undefined) {
        return decodeEvents(await readPage(fromVersion, readOptions.limit), { registry, cipher, tx });
      }
      // No limit: the whole stream, in pages, so a long stream never comes back cut short.
      const rows: StoredEvent[] = [];
      for (let from = fromVersion; ; ) {
        const page = await readPage(from, pageSize);
        rows.push(...page);
        if (page.length < pageSize) break;
        const last = page[page.length - 1]!.streamPosition;
        from = direction === 'forward' ? last + 1 : last - 1;
        if (from < 1) break;
      }
      return decodeEvents(rows, { registry, cipher, tx });
    },

    async readAll(cursor, readOptions) {
      assertPosition(cursor?.position, 'cursor.position');
      assertLimit(readOptions.limit);
      const batch = await store.events.readAll(cursor, readOptions);
      return { ...batch, events: await decodeEvents(batch.events, { registry, cipher }) };
    },

    decode: (rows, tx) => decodeEvents(rows, { registry, cipher, tx: tx ?? null }),

    async forgetSubject(subjectId) {
      assertStreamId(subjectId);
      await store.transaction(async (tx) => {
        await store.keys.destroyKey(tx, subjectId);
        await store.snapshots.deleteBySubject(tx, subjectId);
        const event: EventToStore = {
          id: newMessageId(),
          type: subjectForgottenType,
          schemaVersion: 1,
          streamId: `$subject-${subjectId}`,
          correlationId: null,
          causationId: null,
          occurredAt: clock().toISOString(),
          metadata: {},
          data: { subjectId },
        };
        const result = await store.events.append(tx, {
          streamId: event.streamId,
          expectedVersion: 'any',
          events: [event],
        });
        const messages = toMessages([event], result, [{ type: event.type, data: event.data }]);
        for (const handler of inlineHandlers) await handler(tx, messages);
      });
      await store.purgeDeletedData?.();
    },

    addInlineHandler(handler) {
      inlineHandlers.push(handler);
    },
  };
}
