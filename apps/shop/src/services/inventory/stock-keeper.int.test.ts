/**
 * Inventory's stock operations on the real stores (SQLite, and PostgreSQL when it runs): a product
 * ordered again and again loads from a snapshot and a bounded tail, its state keeps no trace of the
 * orders that ended, an ended order is never reserved again, and a reservation is all or none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Causation, createEventStore, type EventStore, type Store } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { createTestDatabase, describeWithService, type TestDatabase } from '@causeway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryRegistry, stockSnapshot, stockStream } from './inventory-domain.ts';
import { createStockKeeper, type StockKeeper, stockEventsDestination } from './stock-keeper.ts';

const cause = (orderId: string): Causation => ({ correlationId: orderId, causationId: `command-${orderId}` });

function describeStockKeeper(openStore: () => Promise<Store>) {
  let store: Store;
  let eventStore: EventStore;
  let keeper: StockKeeper;
  beforeAll(async () => {
    store = await openStore();
    eventStore = createEventStore({ store, registry: inventoryRegistry });
    keeper = createStockKeeper({ eventStore, store });
  });
  afterAll(() => store?.close());

  const order = (orderId: string, ...items: Array<[productId: string, quantity: number]>) => ({
    orderId,
    items: items.map(([productId, quantity]) => ({ productId, quantity })),
  });
  const reserve = (lines: ReturnType<typeof order>) =>
    store.transaction((tx) => keeper.reserveAll(lines, tx, cause(lines.orderId)));
  const settle = (lines: ReturnType<typeof order>, kind: 'release' | 'sell') =>
    store.transaction((tx) => keeper.settleAll(lines, kind, tx, cause(lines.orderId)));

  it('loads a product ordered 300 times from a snapshot plus a short tail, and its state holds no ended order', async () => {
    await keeper.restock('flash', 1_000);
    for (let index = 0; index < 300; index++) {
      const lines = order(`flash-order-${index}`, ['flash', 2]);
      expect(await reserve(lines)).toEqual({ ok: true, result: undefined });
      await settle(lines, index % 3 === 0 ? 'release' : 'sell');
    }
    const loaded = await keeper.load('flash', null);
    // 1 restock + 300 reservations + 300 endings.
    expect(loaded.version).toBe(601);
    expect(loaded.fromSnapshot).not.toBeNull();
    expect(loaded.version - loaded.fromSnapshot!).toBeLessThan(stockSnapshot.every);
    expect(loaded.state).toEqual({
      available: 1_000 - 200 * 2,
      reserved: 0,
      sold: 200 * 2,
      reservations: {},
    });
  });

  it('never reserves again for an order whose reservation was released or sold', async () => {
    await keeper.restock('late', 10);
    const released = order('late-released', ['late', 3]);
    const sold = order('late-sold', ['late', 4]);
    await reserve(released);
    await settle(released, 'release');
    await reserve(sold);
    await settle(sold, 'sell');
    const before = await keeper.load('late', null);

    // A late Reserve of either flow (a retry that was still on its way) succeeds and changes nothing.
    expect(await reserve(released)).toEqual({ ok: true, result: undefined });
    expect(await reserve(sold)).toEqual({ ok: true, result: undefined });
    const after = await keeper.load('late', null);
    expect(after.version).toBe(before.version);
    expect(after.state).toEqual({ available: 6, reserved: 0, sold: 4, reservations: {} });
  });

  it('publishes every stock event on inventory.events with the available stock after it', async () => {
    await keeper.restock('levels', 5);
    const sold = order('levels-sold', ['levels', 2]);
    const released = order('levels-released', ['levels', 1]);
    await reserve(sold);
    await settle(sold, 'sell');
    await reserve(released);
    await settle(released, 'release');
    const events = await eventStore.readStream(stockStream('levels'));
    expect(
      events.map((event) => [event.type, (event.data as { availableAfter?: number }).availableAfter]),
    ).toEqual([
      ['inventory.Restocked', 5],
      ['inventory.Reserved', 3],
      ['inventory.Sold', 3],
      ['inventory.Reserved', 2],
      ['inventory.Released', 3],
    ]);
    const claimed = await store.outbox.claimBatch({ owner: 'levels-test', limit: 10_000, leaseMs: 60_000 });
    const published = claimed.filter((message) => message.orderingKey === stockStream('levels'));
    expect(published.map((message) => [message.destination, message.type])).toEqual(
      events.map((event) => [stockEventsDestination, event.type]),
    );
    await store.outbox.release(
      'levels-test',
      claimed.map((message) => message.id),
    );
  });

  it('reserves every line of an order or none, and says which product is short', async () => {
    await keeper.restock('plenty', 10);
    await keeper.restock('scarce', 1);
    const outcome = await reserve(order('both-lines', ['plenty', 2], ['scarce', 2]));
    expect(outcome).toEqual({
      ok: false,
      error: 'out of stock: product scarce has 1 available, 2 wanted',
    });
    expect((await keeper.load('plenty', null)).state.reservations).toEqual({});
    expect((await keeper.load('scarce', null)).state.available).toBe(1);
  });
}

describe('stock keeper on SQLite', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'causeway-stock-keeper-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  describeStockKeeper(() => createSqliteStore({ filename: join(dataDir, 'inventory.db') }));
});

describeWithService('postgres', 'stock keeper on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('stock_keeper');
  });
  afterAll(() => database?.drop());
  describeStockKeeper(() => createPostgresStore({ connectionString: database.url, schema: 'inventory' }));
});
