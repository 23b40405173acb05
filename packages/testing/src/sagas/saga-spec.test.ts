import { applyReply, command, defineCommand, defineSaga, step, ValidationError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sagaSpec } from '../saga-spec.ts';
import { placeOrder } from './saga-world.ts';

const data = { orderId: 'o-1', amountCents: 4_200, card: 'ok' as const };
const reserve = ['inventory.commands', 'inventory.Reserve'] as const;
const release = ['inventory.commands', 'inventory.Release'] as const;
const charge = ['payments.commands', 'payments.Charge'] as const;
const refund = ['payments.commands', 'payments.Refund'] as const;
const ship = ['shipping.commands', 'shipping.Schedule'] as const;
const orderRef = z.object({ orderId: z.string() });

describe('sagaSpec: every path of PlaceOrder, in virtual time', () => {
  it('success: each step in order, the payment id folded into the data', () => {
    const saga = sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve, { orderId: 'o-1' })
      .replySuccess()
      .expectCommand(...charge, { amountCents: 4_200 })
      .replySuccess({ paymentId: 'pay-1' })
      .expectCommand(...ship)
      .replySuccess()
      .expectNoCommand()
      .expectCompleted();
    expect(saga.instance.data).toMatchObject({ paymentId: 'pay-1' });
  });

  it('failure at the first step: nothing to compensate', () => {
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replyFailure('out of stock')
      .expectNoCommand()
      .expectStatus('compensated', /reserveInventory failed after 1 attempt: out of stock/);
  });

  it('failure at the second step (after its retries): the first is compensated', () => {
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replyFailure('card declined')
      .expectNoCommand()
      .advanceTime(100)
      .expectCommand(...charge)
      .replyFailure('card declined')
      .advanceTime(100)
      .expectCommand(...charge)
      .replyFailure('card declined')
      .expectCommand(...release)
      .replySuccess()
      .expectNoCommand()
      .expectStatus('compensated', /processPayment failed after 3 attempts: card declined/);
  });

  it('retries then success: the saga goes on, attempts recorded', () => {
    const saga = sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replyFailure('gateway timeout')
      .advanceTime(100)
      .expectCommand(...charge)
      .replySuccess({ paymentId: 'pay-1' })
      .expectCommand(...ship);
    expect(saga.instance.steps[1]).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('a retry waits for its delay: nothing is sent before it comes due', () => {
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replyFailure('gateway timeout')
      .advanceTime(5)
      .expectNoCommand()
      .expectStatus('running');
  });

  it('timeout of the last step: it is compensated too (it may have acted), then the others in reverse', () => {
    // shipOrder has no compensation: it is skipped; payment and inventory are undone, newest first.
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replySuccess({ paymentId: 'pay-1' })
      .expectCommand(...ship)
      .advanceTime(1_499)
      .expectNoCommand()
      .advanceTime(1)
      .expectCommand(...refund)
      .replySuccess()
      .expectCommand(...release)
      .replySuccess()
      .expectStatus('compensated', /no reply within 1500 ms/);
  });

  it('a timeout is retried like a failure, unless retryOnTimeout is false (a deadline for the step)', () => {
    const withRetry = (retryOnTimeout: boolean) =>
      defineSaga<{ orderId: string }>('Pay', [
        step('reserve', {
          invoke: (order) =>
            command(reserve[0], defineCommand({ type: reserve[1], schema: orderRef }), order),
          compensate: (order) =>
            command(release[0], defineCommand({ type: release[1], schema: orderRef }), order),
        }),
        step('charge', {
          invoke: (order) => command(charge[0], defineCommand({ type: charge[1], schema: orderRef }), order),
          retry: { maxAttempts: 3, initialMs: 10, retryOnTimeout },
          timeoutMs: 1_000,
        }),
      ]);
    sagaSpec(withRetry(true))
      .start({ orderId: 'o-1' })
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .advanceTime(1_000)
      .expectCommand(...charge)
      .expectStatus('running');
    sagaSpec(withRetry(false))
      .start({ orderId: 'o-1' })
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .advanceTime(1_000)
      .expectCommand(...release)
      .replySuccess()
      .expectStatus('compensated', /no reply within 1000 ms/);
  });

  it('a late reply after the timeout changes nothing', () => {
    const saga = sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replySuccess({ paymentId: 'pay-1' })
      .expectCommand(...ship)
      .advanceTime(1_500)
      .replySuccess()
      .expectStatus('compensating')
      .expectCommand(...refund);
    expect(saga.instance.steps[2]!.status).toBe('failed');
  });

  it('compensation failing after its retries: dead with the reason; redrive then compensates', () => {
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replyFailure('card declined')
      .advanceTime(100)
      .expectCommand(...charge)
      .replyFailure('card declined')
      .advanceTime(100)
      .expectCommand(...charge)
      .replyFailure('card declined')
      .expectCommand(...release)
      .replyFailure('read-only')
      .advanceTime(100)
      .expectCommand(...release)
      .replyFailure('read-only')
      .expectNoCommand()
      .expectStatus('dead', /compensation of step reserveInventory failed after 2 attempts: read-only/)
      .redrive()
      .expectStatus('compensating')
      .expectCommand(...release)
      .replySuccess()
      .expectCompensated();
  });

  it('a failure retrying cannot fix is final at once: no retries, no delays, compensated', () => {
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replyFailure('card declined', { retryable: false })
      .expectCommand(...release)
      .replySuccess()
      .expectNoCommand()
      .expectStatus('compensated', /processPayment failed after 1 attempt \(not retryable\): card declined/);
  });

  it('a compensated step keeps its own start and end; the compensation has its own', () => {
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    const iso = (ms: number) => new Date(t0 + ms).toISOString();
    const saga = sagaSpec(placeOrder)
      .start(data, { at: new Date(t0) })
      .expectCommand(...reserve)
      .advanceTime(10)
      .replySuccess()
      .expectCommand(...charge)
      .advanceTime(10)
      .replyFailure('card declined', { retryable: false })
      .expectCommand(...release)
      .advanceTime(15)
      .replySuccess()
      .expectCompensated();
    expect(saga.instance.steps[0]).toMatchObject({
      status: 'compensated',
      startedAt: iso(0),
      endedAt: iso(10),
      compensationStartedAt: iso(20),
      compensationEndedAt: iso(35),
    });
  });

  it('a compensation retrying cannot fix goes to the dead letters at once, and redrives', () => {
    sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge)
      .replyFailure('card declined', { retryable: false })
      .expectCommand(...release)
      .replyFailure('stock ledger closed', { retryable: false })
      .expectNoCommand()
      .expectStatus('dead', /reserveInventory failed after 1 attempt \(not retryable\): stock ledger closed/)
      .redrive()
      .expectCommand(...release)
      .replySuccess()
      .expectCompensated();
  });

  it('a stale failure (an earlier attempt) is ignored', () => {
    const saga = sagaSpec(placeOrder)
      .start(data)
      .expectCommand(...reserve)
      .replySuccess()
      .expectCommand(...charge);
    saga
      .replyFailure('first')
      .advanceTime(100)
      .expectCommand(...charge);
    const before = saga.instance;
    const stale = applyReply(
      placeOrder,
      before,
      {
        sagaId: before.sagaId,
        step: 'processPayment',
        action: 'invoke',
        attempt: 1,
        outcome: 'failed',
        error: 'first, again',
      },
      new Date(),
    );
    expect(stale.changed).toBe(false);
    expect(stale.instance).toBe(before);
  });

  it('refuses invalid start data with a typed error', () => {
    expect(() => sagaSpec(placeOrder).start({ ...data, amountCents: -1 })).toThrow(ValidationError);
  });
});
