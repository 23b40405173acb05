import { createGroupCommitter } from '../batching/group-committer.ts';
import { describeError } from '../errors/describe-error.ts';
import {
  CausewayError,
  ConcurrencyError,
  ConfigurationError,
  InvalidArgumentError,
  NotFoundError,
  ValidationError,
} from '../errors/index.ts';
import type { AnyEventDefinition, EventRegistry, HandlerMap, Message } from '../message/index.ts';
import type { DeadLetter, OutboxMessage, Store, Transaction } from '../store/index.ts';
import { inSpan, inTraceOf, SpanKind, spanAttributes, traceContextOf, tracingOn } from '../tracing/index.ts';
import type { Delivery, Subscription, Transport, TransportMessage } from '../transport/index.ts';
import { backoffDelay } from './backoff.ts';

export interface MessageContext {
  /** The transaction that also records the inbox receipt: effects commit once, or not at all. */
  readonly tx: Transaction;
  readonly attempt: number;
  /**
   * Enqueues the handler's own messages in the same transaction (published by the relay). They
   * are written when the handlers of the transaction are done: not readable from the outbox here.
   */
  send(messages: readonly OutboxMessage[]): Promise<void>;
}

export type MessageHandler = (message: Message, context: MessageContext) => Promise<void>;

/** A consumer's handlers, one per message type its registry defines, each typed by its definition. */
export type MessageHandlers<Definition extends AnyEventDefinition> = HandlerMap<Definition, MessageContext>;

export interface ConsumerOptions<Definition extends AnyEventDefinition = AnyEventDefinition> {
  /** The consumer group on the transport and the inbox's consumer name. */
  name: string;
  store: Store;
  transport: Transport;
  destinations: readonly string[];
  /**
   * The definitions of the messages this consumer handles. Each delivery with a handler is
   * upcast and validated against its definition before the handler runs: invalid data is
   * dead-lettered at once, with the reason. Deliveries of types without a handler are acknowledged.
   */
  registry: EventRegistry<Definition>;
  handlers: NoInfer<MessageHandlers<Definition>>;
  /** Deliveries before a failing message is dead-lettered (default 5). */
  maxAttempts?: number;
  backoff?: { initialMs: number; maxMs: number };
  maxInFlight?: number;
  ackTimeoutMs?: number;
  /**
   * Deliveries that arrive while a transaction runs are handled together in the next one (one
   * commit for many messages), at most `maxMessages` (default 64) per transaction and
   * `concurrency` transactions at once (default 2 on a store with concurrent writers, else 1:
   * fewer, fuller commits measured faster than more, emptier ones).
   * A failing batch is rolled back and its messages handled one by one.
   */
  batching?: { maxMessages?: number; concurrency?: number };
  /**
   * A handler's write that lost a race for a stream's version (`ConcurrencyError`) rolled its
   * transaction back whole: it runs again at once, reading afresh, up to this many times (default
   * 5) before the delivery counts as failed and waits its backoff. A conflict is over as soon as
   * the other transaction committed; a broker's redelivery delay would only add latency.
   */
  conflictRetries?: number;
  onDeadLetter?: (entry: { messageId: string; reason: string }) => void;
  /**
   * Called when a delivery failed and will be tried again after `delayMs` (it is not yet a dead
   * letter): without it a handler that keeps failing is silent until its last attempt.
   */
  onRetry?: (failure: ConsumerRetry) => void;
  /**
   * Called when a transaction of several gathered messages failed as a whole and its messages
   * are handled one by one. Each message then succeeds or fails on its own (`onRetry`), so a
   * failure that only a batch meets (a deadlock between two of the consumer's transactions, a
   * statement timeout) would otherwise leave no trace.
   */
  onBatchSplit?: (failure: ConsumerBatchSplit) => void;
  /**
   * Runs around each of the consumer's transactions, from its start to its commit or rollback:
   * a projection fed by this consumer holds it shared, so that swapping its read model for a
   * rebuilt one waits for transactions already writing to the old one.
   */
  aroundTransaction?: <T>(transaction: () => Promise<T>) => Promise<T>;
}

/** A delivery that failed and is to be tried again. */
export interface ConsumerRetry {
  consumer: string;
  messageId: string;
  type: string;
  /** The flow the message belongs to, from its envelope (null when it has none). */
  correlationId: string | null;
  attempt: number;
  delayMs: number;
  /** The error as one line, as a dead letter's reason gives it. */
  reason: string;
  error: unknown;
}

/** A gathered transaction that failed whole, whose messages are handled one by one. */
export interface ConsumerBatchSplit {
  consumer: string;
  /** How many messages the failed transaction held. */
  messages: number;
  /** The error as one line. */
  reason: string;
  error: unknown;
}

/** A failure no retry can fix: dead-letter at once. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    (error instanceof CausewayError && ['UNKNOWN_EVENT_TYPE', 'UPCAST_FAILED'].includes(error.code))
  );
}

function correlationOf(message: TransportMessage): string | null {
  const correlationId = (message.payload as { correlationId?: unknown } | null)?.correlationId;
  return typeof correlationId === 'string' ? correlationId : null;
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** A delivered message, decoded and validated, waiting for its transaction. */
interface Arrival {
  message: TransportMessage;
  envelope: Message;
  attempt: number;
}

type Outcome = 'handled' | 'duplicate' | 'parked';

/**
 * Handles messages exactly once in effect: in ONE transaction the inbox receipt, the handler's
 * writes and its outbox rows; the ack comes after the commit. A redelivery finds the receipt and
 * does nothing. Transient failures retry with backoff and jitter; past `maxAttempts` (or at once
 * for invalid input) the message goes to the dead-letter store and its key is parked, so that a
 * redrive replays that key's messages in their original order.
 */
export function createConsumer<Definition extends AnyEventDefinition>(options: ConsumerOptions<Definition>) {
  const { name, store, transport, registry } = options;
  // Typed per definition for callers; here every handler takes a checked envelope.
  const handlers = options.handlers as Readonly<Record<string, MessageHandler | undefined>>;
  for (const type of Object.keys(handlers)) {
    if (!registry.has(type)) {
      throw new ConfigurationError(
        `Consumer ${name} has a handler for ${type}, which its registry does not define: add its definition to the registry`,
        { consumer: name, type, registered: registry.types },
      );
    }
  }
  const maxAttempts = options.maxAttempts ?? 5;
  const conflictRetries = options.conflictRetries ?? 5;
  const around = options.aroundTransaction;
  const transaction = <T>(work: (tx: Transaction) => Promise<T>): Promise<T> =>
    around ? around(() => store.transaction(work)) : store.transaction(work);
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 30_000 };
  let subscription: Subscription | null = null;

  function decode(message: TransportMessage): Message {
    const envelope = message.payload as Message;
    if (typeof envelope !== 'object' || envelope === null || typeof envelope.type !== 'string') {
      throw new ValidationError(`Message ${message.id} has no envelope (expected { type, data, ... })`);
    }
    // A type without a handler is not this consumer's business: acknowledged, never validated.
    if (!handlers[envelope.type]) return envelope;
    const upcast = registry.upcast(envelope.type, envelope.schemaVersion ?? 1, envelope.data);
    const { data } = registry.validateReceived(envelope.type, upcast.data);
    return { ...envelope, schemaVersion: upcast.version, data };
  }

  /**
   * In the caller's transaction: each arrival is parked if its key is blocked by a dead letter,
   * else its inbox receipt and its handler (a repeat finds the receipt and does nothing).
   * Blocked keys and receipts take one statement together, whatever the number of arrivals.
   */
  async function applyArrivals(
    tx: Transaction,
    arrivals: readonly Arrival[],
    parkIfBlocked: boolean,
  ): Promise<Outcome[]> {
    const { recorded: fresh, blockedKeys: blocked } = parkIfBlocked
      ? await store.inbox.admit(
          tx,
          name,
          arrivals.map(({ message }) => ({ messageId: message.id, orderingKey: message.orderingKey })),
        )
      : {
          recorded: await store.inbox.recordMany(
            tx,
            name,
            arrivals.map(({ message }) => message.id),
          ),
          blockedKeys: new Set<string>(),
        };
    const outcomes: Outcome[] = [];
    // The handlers' messages are enqueued together after the last handler: one statement per
    // transaction instead of one per handled message, in the order the handlers sent them.
    const outgoing: OutboxMessage[] = [];
    const send = async (messages: readonly OutboxMessage[]) => {
      outgoing.push(...messages);
    };
    for (const { message, envelope, attempt } of arrivals) {
      if (blocked.has(message.orderingKey)) {
        await store.deadLetters.put(tx, {
          consumer: name,
          messageId: message.id,
          orderingKey: message.orderingKey,
          message,
          reason: `parked: an earlier message of key ${message.orderingKey} is in the dead-letter store`,
          attempts: attempt,
          status: 'parked',
        });
        outcomes.push('parked');
        continue;
      }
      // A message twice in one batch (a redelivery racing its original) runs its handler once.
      const isNew = fresh.delete(message.id);
      const handler = handlers[envelope.type];
      if (isNew && handler && !tracingOn()) {
        await handler(envelope, { tx, attempt, send });
      } else if (isNew && handler) {
        // Traced: a span per handling, the child of the span that created the message.
        await inSpan(
          `process ${message.destination}`,
          () => ({
            kind: SpanKind.CONSUMER,
            parent: traceContextOf(envelope),
            attributes: {
              [spanAttributes.operationType]: 'process',
              [spanAttributes.destination]: message.destination,
              [spanAttributes.consumerGroup]: name,
              [spanAttributes.messageId]: message.id,
              [spanAttributes.attempt]: attempt,
              'causeway.message.type': envelope.type,
              ...(envelope.streamId ? { [spanAttributes.streamId]: envelope.streamId } : {}),
              ...(envelope.correlationId
                ? {
                    [spanAttributes.conversationId]: envelope.correlationId,
                    [spanAttributes.correlationId]: envelope.correlationId,
                  }
                : {}),
            },
          }),
          () => handler(envelope, { tx, attempt, send }),
        );
      }
      outcomes.push(isNew ? 'handled' : 'duplicate');
    }
    if (outgoing.length > 0) await store.outbox.enqueue(tx, outgoing);
    return outcomes;
  }

  /** Runs a transaction again, after a pause of a few milliseconds, while it fails on a write conflict. */
  async function retryingConflicts<T>(run: () => Promise<T>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || retry > conflictRetries) throw error;
        // Jittered, so that two transactions that collided do not collide again in step.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * retry));
      }
    }
  }

  /** One arrival in its own transaction; `settle` runs in it whatever the outcome (redrive). */
  function handleAlone(
    arrival: Arrival,
    how: { parkIfBlocked: boolean; settle?: (tx: Transaction) => Promise<void> },
  ): Promise<Outcome> {
    return retryingConflicts(() =>
      transaction(async (tx) => {
        const [outcome] = await applyArrivals(tx, [arrival], how.parkIfBlocked);
        await how.settle?.(tx);
        return outcome!;
      }),
    );
  }

  /**
   * Arrivals gathered while a transaction runs share the next one. If it fails, each is retried
   * alone, so one bad message gets its own error and the others commit.
   */
  const handleGathered = createGroupCommitter<Arrival, Outcome>(
    async (batch) => {
      if (batch.length > 1) {
        try {
          return await transaction((tx) => applyArrivals(tx, batch, true));
        } catch (error) {
          // Fall through: one by one.
          options.onBatchSplit?.({
            consumer: name,
            messages: batch.length,
            reason: describeError(error),
            error,
          });
        }
      }
      const outcomes: Array<Outcome | Error> = [];
      for (const arrival of batch) {
        outcomes.push(await handleAlone(arrival, { parkIfBlocked: true }).catch(asError));
      }
      return outcomes;
    },
    {
      maxBatch: options.batching?.maxMessages ?? 64,
      maxConcurrentFlushes: options.batching?.concurrency ?? (store.capabilities.concurrentWriters ? 2 : 1),
    },
  );

  async function deadLetter(message: TransportMessage, reason: string, attempts: number) {
    await store.deadLetters.put(null, {
      consumer: name,
      messageId: message.id,
      orderingKey: message.orderingKey,
      message,
      reason,
      attempts,
      status: 'dead',
    });
    options.onDeadLetter?.({ messageId: message.id, reason });
  }

  async function onDelivery(delivery: Delivery): Promise<void> {
    const { message, attempt } = delivery;
    try {
      await handleGathered({ message, envelope: decode(message), attempt });
    } catch (error) {
      if (isPermanent(error) || attempt >= maxAttempts) {
        await deadLetter(
          message,
          `${describeError(error)} (after ${attempt} attempt${attempt === 1 ? '' : 's'})`,
          attempt,
        );
        return delivery.ack();
      }
      const delayMs = backoffDelay(attempt, backoff);
      // In the message's trace: what the callback logs joins it.
      inTraceOf(message.payload, () =>
        options.onRetry?.({
          consumer: name,
          messageId: message.id,
          type: message.type,
          correlationId: correlationOf(message),
          attempt,
          delayMs,
          reason: describeError(error),
          error,
        }),
      );
      return delivery.retry(delayMs);
    }
    return delivery.ack();
  }

  return {
    name,
    async start() {
      if (subscription) return;
      subscription = await transport.subscribe(
        {
          group: name,
          destinations: options.destinations,
          ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
          ...(options.ackTimeoutMs ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
        },
        onDelivery,
      );
    },
    async stop() {
      await subscription?.close();
      subscription = null;
    },
    /**
     * Replays a dead message and everything parked behind it, in order, each in its own
     * transaction. Stops at the first that fails again (it stays dead with the new reason).
     */
    async redrive(sequence: number): Promise<{ redriven: number; failed?: DeadLetter }> {
      const head = await store.deadLetters.get(null, sequence);
      if (!head || head.consumer !== name) throw new NotFoundError('Dead letter', String(sequence));
      if (head.status !== 'dead' && head.status !== 'parked') {
        throw new InvalidArgumentError(
          'sequence',
          `Dead letter ${sequence} is ${head.status}, not dead or parked: nothing to redrive`,
        );
      }
      let redriven = 0;
      // New messages of the key may be parked while this runs: loop until none is left.
      for (
        let open = await store.deadLetters.openForKey(null, name, head.orderingKey);
        open.length > 0;
        open = await store.deadLetters.openForKey(null, name, head.orderingKey)
      ) {
        for (const entry of open) {
          try {
            // Marked done in the handler's transaction, also when its receipt already existed.
            const message = entry.message as TransportMessage;
            await handleAlone(
              { message, envelope: decode(message), attempt: entry.attempts + 1 },
              {
                parkIfBlocked: false,
                settle: (tx) => store.deadLetters.setStatus(tx, entry.sequence, 'redriven'),
              },
            );
            redriven++;
          } catch (error) {
            await store.deadLetters.put(null, {
              ...entry,
              reason: describeError(error),
              attempts: entry.attempts + 1,
              status: 'dead',
            });
            await store.deadLetters.setStatus(null, entry.sequence, 'dead');
            return { redriven, failed: (await store.deadLetters.get(null, entry.sequence)) ?? entry };
          }
        }
      }
      return { redriven };
    },
    /** Gives up on a dead message; what is parked behind it stays parked until redriven. */
    async discard(sequence: number): Promise<void> {
      const entry = await store.deadLetters.get(null, sequence);
      if (!entry || entry.consumer !== name) throw new NotFoundError('Dead letter', String(sequence));
      await store.deadLetters.setStatus(null, sequence, 'discarded');
    },
  };
}

export type Consumer = ReturnType<typeof createConsumer>;
