/**
 * The relay's handoff on PostgreSQL: messages enqueued by this process go from their committing
 * transaction to the broker without a claim, and a failed publish sends everything handed back
 * through the claims without breaking any key's order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createOutboxRelay,
  newMessageId,
  type OutboxMessage,
  type Store,
  type Transport,
  type TransportMessage,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createPostgresStore } from '@causeway/postgres';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres-test-database.ts';
import { describeWithService } from './services.ts';

const keys = ['k1', 'k2', 'k3', 'k4'];
const perKey = 25;

/** The real store, counting the rows its claims hand out. */
function countingClaims(store: Store) {
  const counted = { rows: 0 };
  const outbox = store.outbox;
  const wrapped: Store = {
    ...store,
    outbox: {
      ...outbox,
      async claimBatch(options) {
        const claimed = await outbox.claimBatch(options);
        counted.rows += claimed.length;
        return claimed;
      },
    },
  };
  return { store: wrapped, counted };
}

/** The real transport, failing the first `failures` publishes after 100 ms each. */
function failingFirst(transport: Transport, failures: number): Transport {
  let left = failures;
  return {
    ...transport,
    name: transport.name,
    async publish(messages) {
      if (left-- > 0) {
        // Slowly, so that later messages queue up behind the failing batch.
        await new Promise((resolve) => setTimeout(resolve, 100));
        throw new Error('broker refused the batch (test)');
      }
      await transport.publish(messages);
    },
    subscribe: (options, handler) => transport.subscribe(options, handler),
    close: () => transport.close(),
  };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithService('postgres', 'outbox relay handoff on PostgreSQL', () => {
  let database: TestDatabase;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    database = await createTestDatabase('relay_handoff');
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function setup(failures: number) {
    const schema = `s_${newMessageId().replaceAll('-', '').slice(0, 12)}`;
    const store = await createPostgresStore({ connectionString: database.url, schema });
    const transport = createEmbeddedTransport({
      filename: join(mkdtempSync(join(tmpdir(), 'causeway-handoff-')), 'log.db'),
    });
    const received: TransportMessage[] = [];
    const subscription = await transport.subscribe({ group: 'g', destinations: ['d'] }, async (delivery) => {
      received.push(delivery.message);
      await delivery.ack();
    });
    const claims = countingClaims(store);
    const relay = createOutboxRelay({
      store: claims.store,
      transport: failingFirst(transport, failures),
      idlePollMs: 50,
    });
    closers.push(
      () => store.close(),
      () => transport.close(),
      () => subscription.close(),
      () => relay.stop(),
    );
    relay.start();
    return { store, relay, received, claims: claims.counted };
  }

  /** One transaction per message, the keys interleaved; the sent messages per key, in order. */
  async function sendEach(store: Store): Promise<Map<string, string[]>> {
    const sent = new Map(keys.map((key) => [key, [] as string[]]));
    for (let index = 0; index < perKey; index++) {
      await Promise.all(
        keys.map(async (key) => {
          const message: OutboxMessage = {
            id: newMessageId(),
            destination: 'd',
            orderingKey: key,
            type: 'test.Sent',
            payload: { index },
          };
          await store.transaction((tx) => store.outbox.enqueue(tx, [message]));
          sent.get(key)!.push(message.id);
        }),
      );
    }
    return sent;
  }

  function receivedPerKey(received: readonly TransportMessage[]): Map<string, string[]> {
    const perKeyIds = new Map(keys.map((key) => [key, [] as string[]]));
    for (const message of received) perKeyIds.get(message.orderingKey)!.push(message.id);
    return perKeyIds;
  }

  it('publishes what this process enqueues without claiming it, each key in order', async () => {
    const { store, relay, received, claims } = await setup(0);
    const sent = await sendEach(store);
    await eventually(() => received.length >= keys.length * perKey, 'every message received');
    await eventually(async () => (await relay.status()).backlog === 0, 'an empty backlog');
    expect(receivedPerKey(received)).toEqual(sent);
    expect(claims.rows).toBe(0);
  });

  it('gives everything handed back to the claims after a failed publish, and each key keeps its order', async () => {
    const { store, relay, received, claims } = await setup(3);
    const sent = await sendEach(store);
    await eventually(async () => (await relay.status()).backlog === 0, 'an empty backlog');
    // Published once each here (no crash between publish and mark), in each key's order.
    expect(receivedPerKey(received)).toEqual(sent);
    expect(claims.rows).toBeGreaterThan(0);
  });
});
