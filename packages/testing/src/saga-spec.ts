import {
  applyRedrive,
  applyReply,
  applyWake,
  beginSaga,
  type OutgoingCommand,
  type SagaDefinition,
  type SagaInstance,
  type SagaStatus,
  type Transition,
  ValidationError,
} from '@causeway/core';
import { expect } from 'vitest';

/**
 * Given/expect/reply for sagas, on the saga's state machine with a virtual clock: no store, no
 * broker, no waiting, so timeouts and retry delays are tested in microseconds.
 *
 * sagaSpec(placeOrder).start(data)
 *   .expectCommand('inventory.commands', 'inventory.Reserve').replySuccess()
 *   .expectCommand('payments.commands', 'payments.Charge').replyFailure('card declined')
 *   .expectCommand('inventory.commands', 'inventory.Release').replySuccess()
 *   .expectStatus('compensated');
 */
export function sagaSpec<Data>(definition: SagaDefinition<Data>) {
  return {
    start(data: Data, options: { sagaId?: string; at?: Date } = {}) {
      if (definition.schema) {
        const parsed = definition.schema.safeParse(data);
        if (!parsed.success) throw new ValidationError(`Saga ${definition.name} cannot start with this data`);
      }
      let now = options.at ?? new Date('2026-01-01T00:00:00.000Z');
      const sagaId = options.sagaId ?? 'saga-under-test';
      const begun = beginSaga(definition, { sagaId, data, correlationId: sagaId, now });
      let instance: SagaInstance = {
        ...begun.instance,
        version: 1,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      };
      const outbox: OutgoingCommand[] = [...begun.send];
      let last: OutgoingCommand | undefined;

      const apply = (transition: Transition) => {
        instance = transition.instance;
        outbox.push(...transition.send);
      };
      const reply = (
        outcome: 'succeeded' | 'failed',
        payload: { result?: unknown; error?: string; retryable?: boolean },
      ) => {
        if (!last) throw new Error('sagaSpec: reply to what? Call expectCommand first');
        apply(
          applyReply(
            definition,
            instance,
            { sagaId, step: last.step, action: last.action, attempt: last.attempt, outcome, ...payload },
            now,
          ),
        );
      };

      const spec = {
        /** The next command the saga sent: destination, type, and (if given) data it contains. */
        expectCommand(destination: string, type: string, data?: unknown) {
          const next = outbox.shift();
          expect(next, `a command ${type} to ${destination}`).toBeDefined();
          expect([next!.command.destination, next!.command.type]).toEqual([destination, type]);
          if (data !== undefined) expect(next!.command.data).toMatchObject(data as object);
          last = next;
          return spec;
        },
        expectNoCommand() {
          expect(outbox.map((each) => `${each.command.type} to ${each.command.destination}`)).toEqual([]);
          return spec;
        },
        replySuccess(result?: unknown) {
          reply('succeeded', result === undefined ? {} : { result });
          return spec;
        },
        /** A refusal; `retryable: false` is one retrying cannot fix, final at once. */
        replyFailure(error = 'failed', options: { retryable?: boolean } = {}) {
          reply('failed', options.retryable === false ? { error, retryable: false } : { error });
          return spec;
        },
        /** Moves the virtual clock; a timeout or retry delay that comes due fires. */
        advanceTime(ms: number) {
          now = new Date(now.getTime() + ms);
          apply(applyWake(definition, instance, now));
          return spec;
        },
        redrive() {
          apply(applyRedrive(definition, instance, now));
          return spec;
        },
        expectStatus(status: SagaStatus, reason?: string | RegExp) {
          expect(instance.status).toBe(status);
          if (reason !== undefined) expect(instance.reason ?? '').toMatch(reason);
          return spec;
        },
        expectCompleted: () => spec.expectStatus('completed'),
        expectCompensated: () => spec.expectStatus('compensated'),
        /** The instance as it stands (steps with attempts, data, reason). */
        get instance(): SagaInstance {
          return instance;
        },
      };
      return spec;
    },
  };
}
