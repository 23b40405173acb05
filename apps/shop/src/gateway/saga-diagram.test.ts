/** The diagram of PlaceOrder instances driven through the real saga machine with a clock of our own. */

import { sagaDiagram } from '@causeway/admin';
import {
  applyReply,
  applyWake,
  beginSaga,
  type SagaAction,
  type SagaInstance,
  sagaStepLabel,
  type Transition,
} from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { compensationOf, definePlaceOrder, type PlaceOrderData } from '../services/orders/orders-domain.ts';

const placeOrder = definePlaceOrder(10_000);
const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms);
const iso = (ms: number) => at(ms).toISOString();

const data: PlaceOrderData = {
  orderId: 'order-1',
  userId: 'user-1',
  items: [{ productId: 'p-1', name: 'Green tea', unitPriceCents: 450, quantity: 2 }],
  totalCents: 900,
  currency: 'USD',
  payment: { token: 'tok_declined' },
};

function begin(): SagaInstance {
  const { instance } = beginSaga(placeOrder, {
    sagaId: 'order-1',
    data,
    correlationId: 'order-1',
    now: at(0),
  });
  return { ...instance, version: 1, createdAt: iso(0), updatedAt: iso(0) };
}

function reply(
  saga: SagaInstance,
  ms: number,
  outcome: 'succeeded' | 'failed',
  action: SagaAction = saga.status === 'compensating' ? 'compensate' : 'invoke',
  error?: string,
): SagaInstance {
  const step = saga.steps[saga.stepIndex]!;
  const attempt = action === 'invoke' ? step.attempts : step.compensationAttempts;
  const transition = applyReply(
    placeOrder,
    saga,
    { sagaId: saga.sagaId, step: step.name, action, attempt, outcome, ...(error ? { error } : {}) },
    at(ms),
  );
  return advanced(transition, ms);
}

function wake(saga: SagaInstance, ms: number): SagaInstance {
  return advanced(applyWake(placeOrder, saga, at(ms)), ms);
}

function advanced(transition: Transition, ms: number): SagaInstance {
  expect(transition.changed).toBe(true);
  return { ...transition.instance, updatedAt: iso(ms) };
}

describe('saga diagram', () => {
  it("draws the happy path in order with each step's duration", () => {
    let saga = begin();
    saga = reply(saga, 10, 'succeeded');
    saga = reply(saga, 30, 'succeeded');
    saga = reply(saga, 60, 'succeeded');
    saga = reply(saga, 100, 'succeeded');
    const diagram = sagaDiagram(saga, compensationOf);
    expect(sagaStepLabel(saga)).toBe('all 4 done');
    expect(diagram.status).toBe('completed');
    expect(diagram.compensations).toEqual([]);
    expect(diagram.forward.map(({ name, status, durationMs }) => [name, status, durationMs])).toEqual([
      ['createOrder', 'succeeded', 10],
      ['reserveInventory', 'succeeded', 20],
      ['processPayment', 'succeeded', 30],
      ['shipOrder', 'succeeded', 40],
    ]);
  });

  it('shows a declined payment with its attempts, then the compensations in reverse with their times', () => {
    let saga = begin();
    saga = reply(saga, 10, 'succeeded');
    saga = reply(saga, 30, 'succeeded');
    // Four attempts (the step's retry policy), each declined; the machine waits between them.
    saga = reply(saga, 40, 'failed', 'invoke', 'card declined');
    let failedAt = 40;
    while (saga.status === 'running') {
      const due = Date.parse(saga.wakeAt!) - t0;
      saga = wake(saga, due);
      failedAt = due + 5;
      saga = reply(saga, failedAt, 'failed', 'invoke', 'card declined');
    }
    expect(saga.status).toBe('compensating');
    expect(sagaStepLabel(saga)).toBe('undoing reserveInventory');
    saga = reply(saga, failedAt + 35, 'succeeded');
    saga = reply(saga, failedAt + 85, 'succeeded');
    // Not the step index it stopped at (0, createOrder): the step that failed.
    expect(saga.steps[saga.stepIndex]!.name).toBe('createOrder');
    expect(sagaStepLabel(saga)).toBe('failed at processPayment');

    const diagram = sagaDiagram(saga, compensationOf);
    expect(diagram.status).toBe('compensated');
    expect(diagram.failedStep).toBe('processPayment');
    expect(diagram.forward.map(({ name, status, attempts }) => [name, status, attempts])).toEqual([
      ['createOrder', 'succeeded', 1],
      ['reserveInventory', 'succeeded', 1],
      ['processPayment', 'failed', 4],
      ['shipOrder', 'pending', 0],
    ]);
    expect(diagram.forward[1]).toMatchObject({ startedAt: iso(10), endedAt: iso(30), durationMs: 20 });
    expect(diagram.forward[2]).toMatchObject({
      startedAt: iso(30),
      endedAt: iso(failedAt),
      error: 'card declined',
    });
    expect(diagram.compensations.map(({ name, step, status }) => [name, step, status])).toEqual([
      ['releaseInventory', 'reserveInventory', 'compensated'],
      ['cancelOrder', 'createOrder', 'compensated'],
    ]);
    expect(diagram.compensations[0]).toMatchObject({
      startedAt: iso(failedAt),
      endedAt: iso(failedAt + 35),
      durationMs: 35,
    });
    expect(diagram.compensations[1]).toMatchObject({ startedAt: iso(failedAt + 35), durationMs: 50 });
  });

  it("compensates a payment that timed out too, and takes its error from the saga's reason", () => {
    let saga = begin();
    saga = reply(saga, 10, 'succeeded');
    saga = reply(saga, 20, 'succeeded');
    saga = wake(saga, 10_020);
    expect(saga.status).toBe('compensating');
    saga = reply(saga, 10_030, 'succeeded');
    saga = reply(saga, 10_040, 'succeeded');
    saga = reply(saga, 10_050, 'succeeded');

    const diagram = sagaDiagram(saga, compensationOf);
    expect(diagram.forward[2]).toMatchObject({
      name: 'processPayment',
      status: 'failed',
      error: 'no reply within 10000 ms (attempt 1)',
    });
    expect(diagram.compensations.map(({ name, durationMs }) => [name, durationMs])).toEqual([
      ['refundPayment', 10], // from the timeout (the failure) to its own end
      ['releaseInventory', 10],
      ['cancelOrder', 10],
    ]);
  });

  it('shows a compensation that keeps failing as failed, with its error, on a dead saga', () => {
    let saga = begin();
    saga = reply(saga, 10, 'succeeded');
    saga = reply(saga, 20, 'failed', 'invoke', 'out of stock');
    let ms = 30;
    while (saga.status === 'compensating') {
      saga = reply(saga, ms, 'failed', 'compensate', 'orders store unavailable');
      if (saga.status !== 'compensating') break;
      ms = Date.parse(saga.wakeAt!) - t0;
      saga = wake(saga, ms);
    }
    const diagram = sagaDiagram(saga, compensationOf);
    expect(diagram.status).toBe('dead');
    expect(diagram.failedStep).toBe('reserveInventory');
    expect(diagram.forward[1]).toMatchObject({ status: 'failed', error: 'out of stock' });
    expect(diagram.compensations).toEqual([
      expect.objectContaining({ name: 'cancelOrder', status: 'failed', error: 'orders store unavailable' }),
    ]);
    expect(diagram.compensations[0]!.attempts).toBeGreaterThan(1);
  });
});
