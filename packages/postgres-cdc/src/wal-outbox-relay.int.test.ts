import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CausewayError,
  newMessageId,
  type Store,
  type Transport,
  TransportUnavailableError,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createPostgresStore } from '@causeway/postgres';
import { describeRequiring } from '@causeway/testing';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createCdcTestDatabase, logicalDecodingMissing } from './test-support/cdc-test-database.ts';
import { withCommitHeldInvisible } from './test-support/invisible-commit.ts';
import { createWalOutboxRelay, type WalOutboxRelay } from './wal-outbox-relay.ts';

const missing = await logicalDecodingMissing();

describeRequiring('WAL outbox relay', missing, () => {
  let db: Awaited<ReturnType<typeof createCdcTestDatabase>>;
  let folder: string;
  let schemaCounter = 0;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    db = await createCdcTestDatabase('wal_relay');
    folder = mkdtempSync(join(tmpdir(), 'causeway-wal-relay-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  async function eventually(check: () => Promise<void> | void, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await check();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** A service's store, a transport, and a consumer that records what it receives, in order. */
  async function service() {
    schemaCounter += 1;
    const schema = `wal_relay_${schemaCounter}`;
    const store: Store = await createPostgresStore({ connectionString: db.url, schema, poolSize: 4 });
    const transport = createEmbeddedTransport({ filename: join(folder, `${schema}.db`) });
    const received: Array<{ id: string; orderingKey: string }> = [];
    const subscription = await transport.subscribe(
      { group: 'b', destinations: ['a.events'] },
      async (delivery) => {
        received.push({ id: delivery.message.id, orderingKey: delivery.message.orderingKey });
        await delivery.ack();
      },
    );
    closers.push(
      () => store.close(),
      () => transport.close(),
      () => subscription.close(),
    );
    /** Enqueues `count` messages, each in a transaction of its own, spread over `keys` keys. */
    async function write(count: number, keys = 4, label = 'm') {
      for (let index = 0; index < count; index += 1)
        await store.transaction((tx) =>
          store.outbox.enqueue(tx, [
            {
              id: `${label}-${index}-${newMessageId()}`,
              destination: 'a.events',
              orderingKey: `${label}-key-${index % keys}`,
              type: 'test.Happened',
              payload: { index },
            },
          ]),
        );
    }
    /** The outbox's message ids per key, in commit (sequence) order. */
    async function committedByKey() {
      const { rows } = await db.query(
        `SELECT message_id, ordering_key FROM ${schema}.outbox ORDER BY sequence`,
      );
      const byKey = new Map<string, string[]>();
      for (const row of rows)
        byKey.set(row.ordering_key, [...(byKey.get(row.ordering_key) ?? []), row.message_id]);
      return byKey;
    }
    /** The first delivery of each message, per key, in the order received. */
    function receivedByKey() {
      const seen = new Set<string>();
      const byKey = new Map<string, string[]>();
      for (const { id, orderingKey } of received) {
        if (seen.has(id)) continue;
        seen.add(id);
        byKey.set(orderingKey, [...(byKey.get(orderingKey) ?? []), id]);
      }
      return byKey;
    }
    const relay = (transportOverride?: Transport, extra: { standbyRetryMs?: number } = {}) => {
      const created: WalOutboxRelay = createWalOutboxRelay({
        connectionString: db.url,
        schema,
        transport: transportOverride ?? transport,
        batchSize: 20,
        ...extra,
      });
      closers.push(() => created.stop());
      return created;
    };
    return { schema, store, transport, received, write, committedByKey, receivedByKey, relay };
  }

  it('publishes every outbox row once, each key in commit order, rows left unpublished before its first start included', async () => {
    const a = await service();
    await a.write(30);
    // Rows the polling relay published before the switch are not published again.
    await db.query(
      `UPDATE ${a.schema}.outbox SET published_at = now() WHERE sequence IN (SELECT sequence FROM ${a.schema}.outbox ORDER BY sequence LIMIT 10)`,
    );
    const alreadyPublished = (
      await db.query(`SELECT message_id FROM ${a.schema}.outbox WHERE published_at IS NOT NULL`)
    ).rows.map((row) => row.message_id);

    const relay = a.relay();
    await relay.start();
    await Promise.all([a.write(100, 4, 'w1'), a.write(100, 4, 'w2'), a.write(100, 4, 'w3')]);

    await eventually(() => expect(a.received).toHaveLength(320));
    const expected = await a.committedByKey();
    for (const [key, ids] of expected)
      expected.set(
        key,
        ids.filter((id) => !alreadyPublished.includes(id)),
      );
    expect(a.receivedByKey()).toEqual(expected);
    expect(new Set(a.received.map((m) => m.id)).size).toBe(320);
    await eventually(async () => expect((await relay.status()).backlog).toBe(0));
    const status = await relay.status();
    expect(status).toMatchObject({ role: 'active', published: 320 });
    expect(status.lagBytes).not.toBeNull();
  }, 60_000);

  it('marks a row published even when its transaction was streamed before it became visible', async () => {
    const a = await service();
    const relay = a.relay();
    await relay.start();
    await a.write(5);
    await eventually(async () => expect((await relay.status()).backlog).toBe(0));

    await withCommitHeldInvisible(db.url, async (held) => {
      const inserting = held.client.query(
        `INSERT INTO ${a.schema}.outbox (message_id, destination, ordering_key, type, payload)
         VALUES ('held-1', 'a.events', 'held', 'test.Happened', '{}')`,
      );
      await eventually(() => expect(a.received.map((m) => m.id)).toContain('held-1'));
      // Published, yet not visible: an UPDATE now marks nothing.
      const visible = await db.query(`SELECT 1 FROM ${a.schema}.outbox WHERE message_id = 'held-1'`);
      expect(visible.rows).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await held.release();
      await inserting;
    });
    await eventually(async () => expect((await relay.status()).backlog).toBe(0), 10_000);
    expect(a.received.filter((m) => m.id === 'held-1')).toHaveLength(1);
  }, 60_000);

  it('runs a second relay on the slot as a standby, which takes over when the first stops: nothing lost', async () => {
    const a = await service();
    const first = a.relay();
    const second = a.relay(undefined, { standbyRetryMs: 100 });
    await first.start();
    await second.start();
    expect((await first.status()).role).toBe('active');
    expect((await second.status()).role).toBe('standby');

    await a.write(50, 4, 'before');
    await eventually(() => expect(a.received).toHaveLength(50));
    await first.stop();
    await a.write(50, 4, 'after');
    await eventually(async () => expect((await second.status()).role).toBe('active'));
    await eventually(async () => expect(a.receivedByKey()).toEqual(await a.committedByKey()));
  }, 60_000);

  it('after a failed publish goes on from the stream: nothing lost, and nothing overtakes what failed', async () => {
    const a = await service();
    let publishes = 0;
    const failing: Transport = {
      name: a.transport.name,
      async publish(messages) {
        publishes += 1;
        // A slow broker: transactions pile up behind each publish and go out together.
        await new Promise((resolve) => setTimeout(resolve, 10));
        // The third and the seventh publish fail after half the batch went out.
        if (publishes === 3 || publishes === 7) {
          await a.transport.publish(messages.slice(0, Math.ceil(messages.length / 2)));
          throw new TransportUnavailableError('the broker went away', { transport: 'test' });
        }
        await a.transport.publish(messages);
      },
      subscribe: (options, handler) => a.transport.subscribe(options, handler),
      close: async () => {},
    };
    const errors: unknown[] = [];
    const relay = createWalOutboxRelay({
      connectionString: db.url,
      schema: a.schema,
      transport: failing,
      batchSize: 10,
      onError: (error) => errors.push(error),
    });
    closers.push(() => relay.stop());
    // A backlog in the WAL first (the slot exists, its relay is stopped): the stream hands many
    // transactions over at once, so some wait behind the publish that fails.
    await relay.start();
    await relay.stop();
    await Promise.all([a.write(100, 4, 'early1'), a.write(100, 4, 'early2')]);
    await relay.start();
    await Promise.all([a.write(100, 4, 'w1'), a.write(100, 4, 'w2')]);

    await eventually(async () => expect(a.receivedByKey()).toEqual(await a.committedByKey()));
    expect(publishes).toBeGreaterThan(7);
    expect(errors.length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('refuses a schema without an outbox, and a bad schema name, with a typed error', async () => {
    expect(() =>
      createWalOutboxRelay({ connectionString: db.url, schema: 'Bad-Name', transport: {} as Transport }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const relay = createWalOutboxRelay({
      connectionString: db.url,
      schema: 'no_such_schema',
      transport: {} as Transport,
    });
    const error = (await relay.start().catch((caught: unknown) => caught)) as CausewayError;
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    const { rows } = await db.query(
      "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name LIKE '%no_such_schema%'",
    );
    expect(rows[0].n).toBe(0);
  });

  it('runs the documented example (docs/examples/wal-outbox-relay.ts)', async () => {
    const previous = process.env.POSTGRES_URL;
    process.env.POSTGRES_URL = db.url;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../../../docs/examples/wal-outbox-relay.ts');
      expect(log.mock.calls).toEqual([[['orders.OrderPlaced order-1'], 'active']]);
      const { rows } = await db.query(
        "SELECT count(*)::int AS n FROM pg_replication_slots WHERE database = current_database() AND slot_name LIKE '%_orders_outbox'",
      );
      expect(rows[0].n).toBe(0);
    } finally {
      log.mockRestore();
      if (previous === undefined) delete process.env.POSTGRES_URL;
      else process.env.POSTGRES_URL = previous;
    }
  });
});
