import { ConfigurationError, ValidationError } from '../errors/index.ts';
import type { AnyEventDefinition, EventRegistry, Message, MessageOfType } from '../message/index.ts';
import type { MessageContext, MessageHandlers } from '../messaging/index.ts';
import type { Store } from '../store/index.ts';
import { replyMessage, type SagaCommandMeta } from './saga-messages.ts';

/**
 * What a participant's command handler decides: done (with a result for the saga), refused, or
 * no answer yet (an outside system was asked and has not answered: nothing is replied, and the
 * step's timeout decides).
 */
export type SagaStepOutcome =
  | { ok: true; result?: unknown }
  | { ok: false; error: string; retryable?: boolean }
  | { ok: 'unanswered' };

export const stepSucceeded = (result?: unknown): SagaStepOutcome => ({ ok: true, result });
/**
 * The step was refused. By default the orchestrator retries it as its step's retry policy says;
 * `retryable: false` (a declined card, an address nobody delivers to) makes the failure final at
 * once, and the saga compensates without spending its attempts and their delays.
 */
export const stepFailed = (error: string, options: { retryable?: boolean } = {}): SagaStepOutcome =>
  options.retryable === false ? { ok: false, error, retryable: false } : { ok: false, error };
/** Commits the handler's writes and replies nothing: the orchestrator's step timeout takes over. */
export const stepUnanswered = (): SagaStepOutcome => ({ ok: 'unanswered' });

/** A command as its participant's handler sees it: typed data, and the saga's metadata. */
export type SagaCommandMessage<Command extends Message = Message> = Command & { saga: SagaCommandMeta };

export type SagaCommandHandler<Command extends Message = Message> = (
  command: SagaCommandMessage<Command>,
  context: MessageContext,
) => Promise<SagaStepOutcome>;

/** One handler per command type the participant's registry defines, typed by its definition. */
export type SagaCommandHandlers<Definition extends AnyEventDefinition> = {
  readonly [Type in Definition['type']]?: SagaCommandHandler<MessageOfType<Definition, Type>>;
};

/** Where participants remember the steps they applied (one document per idempotency key). */
const appliedCollection = 'causeway_saga_applied';

function metaOf(message: Message): SagaCommandMeta {
  const meta = (message.metadata as { saga?: SagaCommandMeta } | undefined)?.saga;
  if (!meta || typeof meta.idempotencyKey !== 'string' || typeof meta.replyTo !== 'string') {
    throw new ValidationError(
      `Message ${message.id} (${message.type}) is not a saga command: metadata.saga is missing`,
    );
  }
  return meta;
}

/**
 * Consumer handlers for a participant's saga commands. Each command is applied and answered
 * exactly once per idempotency key (saga + step + action), in the consumer's transaction: a
 * redelivered or retried command whose step already succeeded is not applied again, and gets the
 * recorded result back. A refusal is not recorded, so the orchestrator's retry runs the handler
 * again. A handler that throws is a transient failure: the consumer retries the delivery.
 */
export function sagaParticipant<Definition extends AnyEventDefinition>(
  store: Store,
  commands: EventRegistry<Definition>,
  handlers: NoInfer<SagaCommandHandlers<Definition>>,
): MessageHandlers<Definition> {
  // Typed per definition for callers; here each handler takes a checked envelope.
  const entries = Object.entries(handlers as unknown as Readonly<Record<string, SagaCommandHandler>>);
  for (const [type] of entries) {
    if (!commands.has(type)) {
      throw new ConfigurationError(
        `Saga participant has a handler for ${type}, which its registry does not define: add a defineCommand for it`,
        { type, registered: commands.types },
      );
    }
  }
  const wrapped = Object.fromEntries(
    entries.map(([type, handle]) => [
      type,
      async (message: Message, context: MessageContext) => {
        const meta = metaOf(message);
        const applied = await store.documents.get<{ result: unknown }>(
          context.tx,
          appliedCollection,
          meta.idempotencyKey,
        );
        let outcome: SagaStepOutcome;
        if (applied) outcome = { ok: true, result: applied.result };
        else {
          outcome = await handle({ ...message, saga: meta }, context);
          if (outcome.ok === 'unanswered') return;
          if (outcome.ok) {
            await store.documents.put(context.tx, appliedCollection, meta.idempotencyKey, {
              result: outcome.result ?? null,
            });
          }
        }
        await context.send([
          replyMessage({
            meta,
            outcome: outcome.ok
              ? { outcome: 'succeeded', result: outcome.result ?? null }
              : {
                  outcome: 'failed',
                  error: outcome.error,
                  ...(outcome.retryable === false ? { retryable: false } : {}),
                },
            correlationId: message.correlationId ?? meta.sagaId,
            causationId: message.id,
            now: new Date(),
          }),
        ]);
      },
    ]),
  );
  return wrapped as unknown as MessageHandlers<Definition>;
}
