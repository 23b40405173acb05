import { flowTimeline, ValidationError } from '@causeway/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSagaWorld, placeOrder } from './saga-world.ts';

type World = Awaited<ReturnType<typeof createSagaWorld>>;

describe('sagas: orchestration with compensation, retries, timeouts and the dead-letter queue (SQLite + embedded)', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const order = (card: 'ok' | 'declined' | 'flaky' | 'stolen') => ({
    orderId: `o-${Math.random().toString(36).slice(2, 10)}`,
    amountCents: 4_200,
    card,
  });

  it('completes every step in order, applying each participant effect once', async () => {
    world = await createSagaWorld();
    const data = order('ok');
    const started = await world.orchestrator.startSaga(placeOrder, data);
    const done = await world.waitForStatus(started.sagaId, ['completed']);
    expect(done.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['reserveInventory', 'succeeded', 1],
      ['processPayment', 'succeeded', 1],
      ['shipOrder', 'succeeded', 1],
    ]);
    expect((done.data as { paymentId?: string }).paymentId).toBe(`pay-${data.orderId}`);
    expect(await world.reservations(data.orderId)).toEqual([{ released: 0 }]);
    expect(await world.ledger(data.orderId)).toEqual([{ kind: 'charge', amount_cents: 4_200 }]);
    expect(await world.shipments(data.orderId)).toHaveLength(1);
  });

  it('compensates the completed steps in reverse when a step fails', async () => {
    world = await createSagaWorld();
    const data = order('declined');
    const started = await world.orchestrator.startSaga(placeOrder, data);
    const done = await world.waitForStatus(started.sagaId, ['compensated']);
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['reserveInventory', 'compensated'],
      ['processPayment', 'failed'],
      ['shipOrder', 'pending'],
    ]);
    expect(done.steps[1]!.attempts).toBe(3);
    expect(done.reason).toContain('card declined');
    expect(await world.reservations(data.orderId)).toEqual([{ released: 1 }]);
    expect(await world.ledger(data.orderId)).toEqual([]);
    // The flow's timeline: the steps in order, then the compensation running back.
    const timeline = await flowTimeline(done.correlationId, [
      { service: 'orders', store: world.stores.orders },
      { service: 'inventory', store: world.stores.inventory },
    ]);
    expect(
      timeline.map((entry) => (entry.kind === 'event' ? entry.type : `${entry.kind} ${entry.step}`)),
    ).toEqual(['step reserveInventory', 'step processPayment', 'compensation reserveInventory']);
  });

  it('compensates at once, without retries, when the participant says retrying cannot help', async () => {
    world = await createSagaWorld();
    const data = order('stolen');
    const started = await world.orchestrator.startSaga(placeOrder, data);
    const done = await world.waitForStatus(started.sagaId, ['compensated']);
    expect(done.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['reserveInventory', 'compensated', 1],
      ['processPayment', 'failed', 1],
      ['shipOrder', 'pending', 0],
    ]);
    expect(world.controls.chargeCalls.get(data.orderId)).toBe(1);
    expect(done.reason).toMatch(
      /processPayment failed after 1 attempt \(not retryable\): card reported stolen/,
    );
    expect(await world.reservations(data.orderId)).toEqual([{ released: 1 }]);
  });

  it('retries a failing step with backoff and goes on when it succeeds', async () => {
    world = await createSagaWorld();
    const data = order('flaky');
    const started = await world.orchestrator.startSaga(placeOrder, data);
    const done = await world.waitForStatus(started.sagaId, ['completed']);
    expect(done.steps[1]).toMatchObject({ name: 'processPayment', status: 'succeeded', attempts: 3 });
    expect(world.controls.chargeCalls.get(data.orderId)).toBe(3);
    expect(await world.ledger(data.orderId)).toEqual([{ kind: 'charge', amount_cents: 4_200 }]);
  });

  it('treats a step timeout as a failure and compensates, refunding the charge', async () => {
    world = await createSagaWorld();
    await world.takeShippingOffline();
    const data = order('ok');
    const started = await world.orchestrator.startSaga(placeOrder, data);
    const done = await world.waitForStatus(started.sagaId, ['compensated']);
    expect(done.steps.map((s) => [s.name, s.status])).toEqual([
      ['reserveInventory', 'compensated'],
      ['processPayment', 'compensated'],
      ['shipOrder', 'failed'],
    ]);
    expect(done.reason).toContain('no reply within 1500 ms');
    expect(await world.ledger(data.orderId)).toEqual([
      { kind: 'charge', amount_cents: 4_200 },
      { kind: 'refund', amount_cents: 4_200 },
    ]);
    expect(await world.reservations(data.orderId)).toEqual([{ released: 1 }]);
  });

  it('dead-letters a saga whose compensation keeps failing, and redrive finishes it', async () => {
    world = await createSagaWorld();
    world.controls.releaseBroken = true;
    const data = order('declined');
    const started = await world.orchestrator.startSaga(placeOrder, data);
    const dead = await world.waitForStatus(started.sagaId, ['dead']);
    expect(dead.reason).toContain('compensation of step reserveInventory failed after 2 attempts');
    expect(dead.reason).toContain('inventory database is read-only');
    expect((await world.orchestrator.counts('PlaceOrder')).dead).toBe(1);
    expect((await world.orchestrator.list({ status: 'dead' })).map((s) => s.sagaId)).toContain(
      started.sagaId,
    );

    world.controls.releaseBroken = false;
    await world.orchestrator.redrive(started.sagaId);
    const done = await world.waitForStatus(started.sagaId, ['compensated']);
    expect(done.steps[0]).toMatchObject({ status: 'compensated', compensationAttempts: 3 });
    expect(await world.reservations(data.orderId)).toEqual([{ released: 1 }]);
    await expect(world.orchestrator.redrive(started.sagaId)).rejects.toThrow(/not dead/);
  });

  it('refuses to start with invalid data, with a typed error, and stores nothing', async () => {
    world = await createSagaWorld();
    const error = await world.orchestrator
      .startSaga(placeOrder, { orderId: '', amountCents: -5, card: 'ok' }, { sagaId: 'bad-saga' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path).sort()).toEqual([
      'amountCents',
      'orderId',
    ]);
    expect(await world.orchestrator.get('bad-saga')).toBeNull();
    expect((await world.stores.orders.outbox.backlog()).count).toBe(0);
  });
});
