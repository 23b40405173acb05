import { ConcurrencyError, type SagaInstance, type SagaStatus, type Store } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { type GetStore, rejectionOf, rollBack, sleep, uniqueName } from './fixtures.ts';

type NewSaga = Omit<SagaInstance, 'version' | 'createdAt' | 'updatedAt'>;

const hourMs = 3_600_000;

/** A saga instance with every field filled in; its wake-up is an hour away unless overridden. */
function newSaga(sagaName: string, overrides: Partial<NewSaga> = {}): NewSaga {
  const startedAt = new Date(Date.now() - 5_000).toISOString();
  return {
    sagaId: uniqueName('saga'),
    sagaName,
    status: 'running',
    data: {
      orderId: uniqueName('order'),
      amountCents: 1250,
      lines: [{ sku: 'A-1', quantity: 2 }],
      note: 'ünï ✓',
    },
    stepIndex: 1,
    steps: [
      {
        name: 'reserveStock',
        status: 'succeeded',
        attempts: 1,
        compensationAttempts: 0,
        startedAt,
        endedAt: new Date(Date.now() - 4_000).toISOString(),
        error: null,
      },
      {
        name: 'chargeCard',
        status: 'running',
        attempts: 2,
        compensationAttempts: 0,
        startedAt,
        endedAt: null,
        error: 'card issuer timed out',
      },
    ],
    wakeAt: new Date(Date.now() + hourMs).toISOString(),
    reason: null,
    correlationId: uniqueName('correlation'),
    ...overrides,
  };
}

function insert(store: Store, saga: NewSaga): Promise<SagaInstance> {
  return store.transaction((tx) => store.sagas.insert(tx, saga));
}

function update(store: Store, saga: SagaInstance): Promise<SagaInstance> {
  return store.transaction((tx) => store.sagas.update(tx, saga));
}

function expectConcurrencyError(error: unknown, sagaId: string, expected: unknown, actual: number): void {
  expect(error).toBeInstanceOf(ConcurrencyError);
  expect((error as ConcurrencyError).details).toMatchObject({ streamId: sagaId, expected, actual });
}

function withoutTimes(saga: SagaInstance): Omit<SagaInstance, 'createdAt' | 'updatedAt'> {
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...rest } = saga;
  return rest;
}

/**
 * Saga instances: stored whole, versioned optimistically (one of two racing writers wins),
 * written in the caller's transaction, and found by wake-up time, name and status.
 */
export function describeSagaStoreConformance(getStore: GetStore): void {
  describe('SagaStore', () => {
    it('inserts an instance at version 1 and gets every field back', async () => {
      const store = getStore();
      const saga = newSaga(uniqueName('order_saga'));
      const before = Date.now();
      const inserted = await insert(store, saga);
      expect(inserted).toEqual({
        ...saga,
        version: 1,
        createdAt: inserted.createdAt,
        updatedAt: inserted.updatedAt,
      });
      expect(inserted.updatedAt).toBe(inserted.createdAt);
      expect(new Date(inserted.createdAt).toISOString()).toBe(inserted.createdAt);
      expect(Math.abs(new Date(inserted.createdAt).getTime() - before)).toBeLessThan(60_000);
      expect(await store.sagas.get(null, saga.sagaId)).toEqual(inserted);
      await store.transaction(async (tx) => {
        expect(await store.sagas.get(tx, saga.sagaId)).toEqual(inserted);
      });
      expect(await store.sagas.get(null, uniqueName('saga'))).toBeNull();

      const failed = newSaga(saga.sagaName, {
        status: 'dead',
        wakeAt: null,
        reason: 'chargeCard failed: card declined',
        data: null,
        stepIndex: 0,
        steps: [],
      });
      const stored = await insert(store, failed);
      expect(withoutTimes(stored)).toEqual({ ...failed, version: 1 });
      expect(await store.sagas.get(null, failed.sagaId)).toEqual(stored);
    });

    it('refuses a second instance with the same id and keeps the first', async () => {
      const store = getStore();
      const saga = newSaga(uniqueName('order_saga'));
      const inserted = await insert(store, saga);
      const error = await rejectionOf(insert(store, { ...saga, status: 'dead', data: { other: true } }));
      expectConcurrencyError(error, saga.sagaId, 'noStream', 1);
      expect(await store.sagas.get(null, saga.sagaId)).toEqual(inserted);
    });

    it('keeps the transaction usable after a refused insert', async () => {
      const store = getStore();
      const saga = newSaga(uniqueName('order_saga'));
      await insert(store, saga);
      const other = newSaga(saga.sagaName);
      await store.transaction(async (tx) => {
        expectConcurrencyError(await rejectionOf(store.sagas.insert(tx, saga)), saga.sagaId, 'noStream', 1);
        await store.sagas.insert(tx, other);
      });
      expect((await store.sagas.get(null, other.sagaId))?.version).toBe(1);
    });

    it('updates an instance at the expected version and bumps the version', async () => {
      const store = getStore();
      const inserted = await insert(store, newSaga(uniqueName('order_saga')));
      await sleep(5);
      const changed: SagaInstance = {
        ...inserted,
        status: 'compensating',
        data: { orderId: 'changed', refunds: [1, 2] },
        stepIndex: 0,
        steps: inserted.steps.map((step) => ({ ...step, status: 'compensating', compensationAttempts: 1 })),
        wakeAt: new Date(Date.now() + 2 * hourMs).toISOString(),
        reason: 'chargeCard failed: card declined',
      };
      const updated = await update(store, changed);
      expect(withoutTimes(updated)).toEqual({ ...withoutTimes(changed), version: 2 });
      expect(updated.createdAt).toBe(inserted.createdAt);
      expect(new Date(updated.updatedAt).getTime()).toBeGreaterThan(new Date(inserted.updatedAt).getTime());
      expect(await store.sagas.get(null, inserted.sagaId)).toEqual(updated);

      const finished = await update(store, { ...updated, status: 'compensated', wakeAt: null });
      expect(finished.version).toBe(3);
      expect(await store.sagas.get(null, inserted.sagaId)).toMatchObject({
        status: 'compensated',
        wakeAt: null,
        version: 3,
      });
    });

    it('refuses a stale update and writes nothing', async () => {
      const store = getStore();
      const inserted = await insert(store, newSaga(uniqueName('order_saga')));
      const current = await update(store, { ...inserted, stepIndex: 2 });
      const error = await rejectionOf(update(store, { ...inserted, status: 'dead', reason: 'stale' }));
      expectConcurrencyError(error, inserted.sagaId, 1, 2);
      expect(await store.sagas.get(null, inserted.sagaId)).toEqual(current);

      const missing = { ...inserted, sagaId: uniqueName('saga') };
      expectConcurrencyError(await rejectionOf(update(store, missing)), missing.sagaId, 1, 0);
      expect(await store.sagas.get(null, missing.sagaId)).toBeNull();
    });

    it('lets exactly one of two concurrent updates from the same version win', async () => {
      const store = getStore();
      const inserted = await insert(store, newSaga(uniqueName('order_saga')));
      const results = await Promise.allSettled([
        update(store, { ...inserted, data: { winner: 'first' } }),
        update(store, { ...inserted, data: { winner: 'second' } }),
      ]);
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expectConcurrencyError((lost[0] as PromiseRejectedResult).reason, inserted.sagaId, 1, 2);
      const winner = (won[0] as PromiseFulfilledResult<SagaInstance>).value;
      expect(winner.version).toBe(2);
      expect(await store.sagas.get(null, inserted.sagaId)).toEqual(winner);
    });

    it('commits inserts and updates with the caller’s transaction', async () => {
      const store = getStore();
      const saga = newSaga(uniqueName('order_saga'));
      await rollBack(store, async (tx) => {
        await store.sagas.insert(tx, saga);
        expect((await store.sagas.get(tx, saga.sagaId))?.version).toBe(1);
      });
      expect(await store.sagas.get(null, saga.sagaId)).toBeNull();
      expect(await store.sagas.list({ sagaName: saga.sagaName })).toEqual([]);

      const inserted = await insert(store, saga);
      await rollBack(store, async (tx) => {
        const updated = await store.sagas.update(tx, { ...inserted, status: 'completed', wakeAt: null });
        expect(updated.version).toBe(2);
      });
      expect(await store.sagas.get(null, saga.sagaId)).toEqual(inserted);
      // The rolled-back update left the version where it was: an update from it still succeeds.
      expect((await update(store, { ...inserted, status: 'completed', wakeAt: null })).version).toBe(2);
    });

    it('finds live instances whose wake-up has come, earliest first, up to the limit', async () => {
      const store = getStore();
      const sagaName = uniqueName('order_saga');
      // Long ago, so nothing else in a shared store is due before these.
      const base = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 1_000) * 60_000;
      const at = (seconds: number) => new Date(base + seconds * 1_000).toISOString();
      const now = new Date(base + 5_000);
      const second = await insert(store, newSaga(sagaName, { wakeAt: at(2) }));
      const first = await insert(store, newSaga(sagaName, { status: 'compensating', wakeAt: at(1) }));
      const third = await insert(store, newSaga(sagaName, { wakeAt: at(3) }));
      const exactlyNow = await insert(store, newSaga(sagaName, { wakeAt: at(5) }));
      await insert(store, newSaga(sagaName, { wakeAt: at(6) }));
      await insert(store, newSaga(sagaName, { wakeAt: null }));
      for (const status of ['completed', 'compensated', 'dead'] as const) {
        await insert(store, newSaga(sagaName, { status, wakeAt: at(0) }));
      }

      const due = await store.sagas.due(now, 1_000);
      const mine = due.filter((saga) => saga.sagaName === sagaName);
      expect(mine).toEqual([first, second, third, exactlyNow]);
      for (const saga of due) {
        expect(['running', 'compensating']).toContain(saga.status);
        expect(new Date(saga.wakeAt ?? Number.NaN).getTime()).toBeLessThanOrEqual(now.getTime());
      }
      const wakeTimes = due.map((saga) => new Date(saga.wakeAt as string).getTime());
      expect(wakeTimes).toEqual([...wakeTimes].sort((a, b) => a - b));

      const limited = await store.sagas.due(now, 2);
      expect(limited).toHaveLength(2);
      expect(limited).toEqual(due.slice(0, 2));

      // Finished or no longer waiting: not due any more.
      await update(store, { ...first, status: 'compensated', wakeAt: null });
      await update(store, { ...second, wakeAt: null });
      const after = (await store.sagas.due(now, 1_000)).filter((saga) => saga.sagaName === sagaName);
      expect(after.map((saga) => saga.sagaId)).toEqual([third.sagaId, exactlyNow.sagaId]);
    });

    it('lists instances newest first, filtered by name and status', async () => {
      const store = getStore();
      const sagaName = uniqueName('order_saga');
      const oldest = await insert(store, newSaga(sagaName));
      await sleep(5);
      const middle = await insert(store, newSaga(sagaName, { status: 'completed', wakeAt: null }));
      await sleep(5);
      const newest = await insert(store, newSaga(sagaName));
      const otherName = await insert(store, newSaga(uniqueName('payment_saga'), { status: 'completed' }));

      expect(await store.sagas.list({ sagaName })).toEqual([newest, middle, oldest]);
      expect(await store.sagas.list({ sagaName, status: 'running' })).toEqual([newest, oldest]);
      expect(await store.sagas.list({ sagaName, status: 'dead' })).toEqual([]);
      expect(await store.sagas.list({ sagaName, limit: 2 })).toEqual([newest, middle]);
      expect(await store.sagas.list({ sagaName: uniqueName('unknown_saga') })).toEqual([]);
      const completed = await store.sagas.list({ status: 'completed', limit: 1_000 });
      expect(completed.map((saga) => saga.sagaId)).toEqual(
        expect.arrayContaining([middle.sagaId, otherName.sagaId]),
      );
      expect(completed.every((saga) => saga.status === 'completed')).toBe(true);
      expect((await store.sagas.list()).length).toBeGreaterThanOrEqual(4);
    });

    it('lists the instances of one flow by correlation id', async () => {
      const store = getStore();
      const sagaName = uniqueName('order_saga');
      const correlationId = uniqueName('flow');
      const first = await insert(store, newSaga(sagaName, { correlationId }));
      await sleep(5);
      const second = await insert(store, newSaga(uniqueName('payment_saga'), { correlationId }));
      await insert(store, newSaga(sagaName));
      expect(await store.sagas.list({ correlationId })).toEqual([second, first]);
      expect(await store.sagas.list({ correlationId, sagaName })).toEqual([first]);
      expect(await store.sagas.list({ correlationId: uniqueName('no_flow') })).toEqual([]);
    });

    it('counts instances by status, with zeros for the statuses nobody is in', async () => {
      const store = getStore();
      const sagaName = uniqueName('order_saga');
      const empty: Record<SagaStatus, number> = {
        running: 0,
        compensating: 0,
        completed: 0,
        compensated: 0,
        dead: 0,
      };
      expect(await store.sagas.countByStatus(sagaName)).toEqual(empty);
      const running = await insert(store, newSaga(sagaName));
      await insert(store, newSaga(sagaName));
      await insert(store, newSaga(sagaName, { status: 'dead', wakeAt: null, reason: 'gave up' }));
      await insert(store, newSaga(uniqueName('payment_saga'), { status: 'compensated', wakeAt: null }));
      await update(store, { ...running, status: 'completed', wakeAt: null });
      expect(await store.sagas.countByStatus(sagaName)).toEqual({
        ...empty,
        running: 1,
        completed: 1,
        dead: 1,
      });

      const all = await store.sagas.countByStatus();
      expect(Object.keys(all).sort()).toEqual(Object.keys(empty).sort());
      expect(all.running).toBeGreaterThanOrEqual(1);
      expect(all.compensated).toBeGreaterThanOrEqual(1);
    });
  });
}
