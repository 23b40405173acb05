import { ConcurrencyError, InvalidArgumentError, NotFoundError, ValidationError } from '../errors/index.ts';
import { createWakeableSleep } from '../lifecycle/index.ts';
import { createEventRegistry, newMessageId } from '../message/index.ts';
import { type ConsumerOptions, createConsumer } from '../messaging/index.ts';
import type { OutboxMessage, SagaInstance, SagaStatus, Store, Transaction } from '../store/index.ts';
import { activeTraceContext, inSpan, inSpanNow, spanAttributes, traceContextOf } from '../tracing/index.ts';
import type { Transport } from '../transport/index.ts';
import type { SagaDefinition } from './saga-definition.ts';
import {
  applyRedrive,
  applyReply,
  applyWake,
  beginSaga,
  type OutgoingCommand,
  type SagaReply,
  type Transition,
} from './saga-machine.ts';
import { commandMessage, sagaReplyDefinition, sagaReplyType } from './saga-messages.ts';

export interface SagaOrchestratorOptions {
  store: Store;
  transport: Transport;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any data type live side by side
  sagas: ReadonlyArray<SagaDefinition<any>>;
  /** The destination participants reply to, e.g. `orders.saga-replies`. */
  replyTo: string;
  /** Consumer group of the replies (default `<replyTo>-orchestrator`). */
  name?: string;
  /** How often due timers (timeouts, retry delays) are looked for (default 250 ms). */
  timerPollMs?: number;
  clock?: () => Date;
  onError?: (error: unknown) => void;
  /**
   * Runs in the transaction of the transition that ends an instance (completed, compensated or
   * dead), so the service's own state follows the saga atomically (e.g. the order becomes
   * CONFIRMED or CANCELLED). A throw rolls the transition back; it is retried like a failed reply.
   * A redriven dead saga ends a second time (compensated or dead again): it runs again then.
   */
  onFinished?: (instance: SagaInstance, tx: Transaction) => Promise<void>;
  /** Settings of the reply consumer (e.g. a short ackTimeoutMs, so a crashed orchestrator's replies move on sooner). */
  consumer?: Pick<ConsumerOptions, 'ackTimeoutMs' | 'maxInFlight' | 'backoff' | 'maxAttempts'>;
}

/** Where a transition writes: its transaction, and how its commands are enqueued there. */
interface TransitionScope {
  tx: Transaction;
  enqueue(messages: readonly OutboxMessage[]): Promise<void>;
}

/**
 * Runs sagas: each instance lives in the store. Starting one writes it and its first command in
 * one transaction; each reply advances it and sends the next command in one transaction (through
 * the inbox and the outbox), and durable timers fire step timeouts and retry delays.
 */
const replyRegistry = createEventRegistry([sagaReplyDefinition]);

export function createSagaOrchestrator(options: SagaOrchestratorOptions) {
  const { store, replyTo } = options;
  const clock = options.clock ?? (() => new Date());
  const timerPollMs = options.timerPollMs ?? 250;
  const definitions = new Map(options.sagas.map((definition) => [definition.name, definition]));
  if (definitions.size !== options.sagas.length) {
    throw new InvalidArgumentError('sagas', 'Two saga definitions share a name');
  }
  const { sleep, wake } = createWakeableSleep();
  let running = false;
  let timerLoop: Promise<void> | null = null;

  function definitionOf(instance: SagaInstance) {
    const definition = definitions.get(instance.sagaName);
    if (!definition) throw new NotFoundError('Saga definition', instance.sagaName);
    return definition;
  }

  /** `enqueue` writes in the transaction: the outbox directly, or a consumer's batched `send`. */
  async function send(
    enqueue: (messages: readonly OutboxMessage[]) => Promise<void>,
    instance: SagaInstance,
    commands: readonly OutgoingCommand[],
  ) {
    if (commands.length === 0) return;
    const now = clock();
    // Each step's command is built in its own span: the participant's handling is its child.
    const messages = commands.map((outgoing) =>
      inSpanNow(
        `saga ${instance.sagaName} ${outgoing.action} ${outgoing.step}`,
        () => ({
          attributes: {
            [spanAttributes.sagaId]: instance.sagaId,
            [spanAttributes.sagaName]: instance.sagaName,
            [spanAttributes.sagaStep]: outgoing.step,
            [spanAttributes.sagaAction]: outgoing.action,
            [spanAttributes.attempt]: outgoing.attempt,
            [spanAttributes.correlationId]: instance.correlationId,
            [spanAttributes.destination]: outgoing.command.destination,
          },
        }),
        () =>
          commandMessage({
            meta: {
              sagaId: instance.sagaId,
              sagaName: instance.sagaName,
              step: outgoing.step,
              action: outgoing.action,
              attempt: outgoing.attempt,
              replyTo,
            },
            destination: outgoing.command.destination,
            type: outgoing.command.type,
            schemaVersion: outgoing.command.schemaVersion,
            data: outgoing.command.data,
            correlationId: instance.correlationId,
            now,
          }),
      ),
    );
    await enqueue(messages);
  }

  const enqueueIn = (tx: Transaction) => (messages: readonly OutboxMessage[]) =>
    store.outbox.enqueue(tx, messages);
  const directly = (tx: Transaction): TransitionScope => ({ tx, enqueue: enqueueIn(tx) });

  /** Loads the instance in `tx`, applies `transition`, and writes it and its commands there. */
  async function advance(
    { tx, enqueue }: TransitionScope,
    sagaId: string,
    transition: (instance: SagaInstance) => Transition,
  ) {
    const instance = await store.sagas.get(tx, sagaId);
    if (!instance) return null;
    const result = transition(instance);
    if (!result.changed) return instance;
    const updated = await store.sagas.update(tx, result.instance);
    await send(enqueue, updated, result.send);
    const finished = ['completed', 'compensated', 'dead'];
    if (finished.includes(updated.status) && !finished.includes(instance.status)) {
      await options.onFinished?.(updated, tx);
    }
    return updated;
  }

  const consumer = createConsumer({
    name: options.name ?? `${replyTo}-orchestrator`,
    store,
    transport: options.transport,
    destinations: [replyTo],
    ...options.consumer,
    registry: replyRegistry,
    handlers: {
      [sagaReplyType]: async (message, { tx, send: enqueue }) => {
        const reply: SagaReply = message.data;
        await advance({ tx, enqueue }, reply.sagaId, (instance) =>
          applyReply(definitionOf(instance), instance, reply, clock()),
        );
      },
    },
  });

  /** Fires every due timer once; a timer another process fired first is skipped. */
  async function fireDueTimers(): Promise<number> {
    let fired = 0;
    for (const due of await store.sagas.due(clock(), 100)) {
      try {
        // In the trace of the work that started the saga: what the timer sends continues it.
        await inSpan(
          `saga ${due.sagaName} timer`,
          () => ({
            parent: traceContextOf({ metadata: due.traceContext }),
            attributes: {
              [spanAttributes.sagaId]: due.sagaId,
              [spanAttributes.sagaName]: due.sagaName,
              [spanAttributes.correlationId]: due.correlationId,
            },
          }),
          () =>
            store.transaction((tx) =>
              advance(directly(tx), due.sagaId, (instance) =>
                applyWake(definitionOf(instance), instance, clock()),
              ),
            ),
        );
        fired++;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    return fired;
  }

  async function runTimers() {
    while (running) {
      try {
        await fireDueTimers();
      } catch (error) {
        options.onError?.(error);
      }
      await sleep(timerPollMs);
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      await consumer.start();
      timerLoop = runTimers();
    },
    async stop() {
      running = false;
      wake();
      await timerLoop;
      await consumer.stop();
    },
    /**
     * Starts a saga: validates its data (invalid data raises ValidationError and stores nothing),
     * then writes the instance and its first command in one transaction (the caller's, if given).
     */
    async startSaga<Data>(
      definition: SagaDefinition<Data> | string,
      data: Data,
      startOptions: { sagaId?: string; correlationId?: string; tx?: Transaction } = {},
    ): Promise<SagaInstance> {
      const name = typeof definition === 'string' ? definition : definition.name;
      const known = definitions.get(name) as SagaDefinition<Data> | undefined;
      if (!known) throw new NotFoundError('Saga definition', name);
      let validData = data;
      if (known.schema) {
        const parsed = known.schema.safeParse(data);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          }));
          throw new ValidationError(
            `Saga ${name} cannot start with this data: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`,
            issues,
            { saga: name },
          );
        }
        validData = parsed.data;
      }
      const sagaId = startOptions.sagaId ?? `${name}-${newMessageId()}`;
      const begun = beginSaga(known, {
        sagaId,
        data: validData,
        correlationId: startOptions.correlationId ?? sagaId,
        now: clock(),
      });
      const traceContext = activeTraceContext();
      if (traceContext) begun.instance.traceContext = traceContext;
      const write = async (tx: Transaction) => {
        const inserted = await store.sagas.insert(tx, begun.instance);
        await send(enqueueIn(tx), inserted, begun.send);
        return inserted;
      };
      const inserted = startOptions.tx ? await write(startOptions.tx) : await store.transaction(write);
      wake();
      return inserted;
    },
    get: (sagaId: string) => store.sagas.get(null, sagaId),
    list: (listOptions?: { sagaName?: string; status?: SagaStatus; limit?: number }) =>
      store.sagas.list(listOptions),
    counts: (sagaName?: string) => store.sagas.countByStatus(sagaName),
    /** A dead saga tries its failing compensation again (fresh retries); anything else is refused. */
    async redrive(sagaId: string): Promise<SagaInstance> {
      const current = await store.sagas.get(null, sagaId);
      if (!current) throw new NotFoundError('Saga', sagaId);
      if (current.status !== 'dead') {
        throw new InvalidArgumentError(
          'sagaId',
          `Saga ${sagaId} is ${current.status}, not dead: nothing to redrive`,
        );
      }
      const updated = await store.transaction((tx) =>
        advance(directly(tx), sagaId, (instance) => applyRedrive(definitionOf(instance), instance, clock())),
      );
      return updated!;
    },
    fireDueTimers,
  };
}

export type SagaOrchestrator = ReturnType<typeof createSagaOrchestrator>;
