/**
 * A small service of a user's own, for the admin tests: one SQLite store and the embedded
 * transport, a saga whose payment step fails (so it compensates), a consumer that dead-letters
 * while `breakStock(true)` holds (then a redrive succeeds), a projection, and the admin handler
 * mounted on a plain `node:http` server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  command,
  createConsumer,
  createEventRegistry,
  createEventStore,
  createOutboxRelay,
  createProjectionRunner,
  createSagaOrchestrator,
  defineCommand,
  defineEvent,
  defineProjection,
  defineSaga,
  sagaParticipant,
  step,
  stepFailed,
  stepSucceeded,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';
import type { Access } from '../admin-access.ts';
import { createAdminHandler } from '../admin-handler.ts';
import type { TraceSource } from '../trace-view.ts';

const reserve = defineCommand({ type: 'stock.Reserve', schema: z.object({ orderId: z.string() }) });
const release = defineCommand({ type: 'stock.Release', schema: z.object({ orderId: z.string() }) });
const charge = defineCommand({ type: 'payments.Charge', schema: z.object({ orderId: z.string() }) });
const noted = defineEvent({
  type: 'stock.Counted',
  schema: z.object({ sku: z.string(), count: z.number() }),
});

interface Order {
  orderId: string;
}

const placeOrder = defineSaga<Order>('PlaceOrder', [
  step('reserveStock', {
    invoke: (order) => command('stock.commands', reserve, order),
    compensate: (order) => command('stock.commands', release, order),
  }),
  step('charge', { invoke: (order) => command('payments.commands', charge, order) }),
]);

export interface SampleService {
  url: string;
  /** Places an order whose saga compensates (the charge is declined); resolves once it ended. */
  placeDeclinedOrder(orderId: string): Promise<void>;
  /** A stock count the `stock-counts` consumer dead-letters while broken; its flow is `count-<sku>`. */
  countStock(sku: string, metadata?: Record<string, string>): Promise<void>;
  breakStock(broken: boolean): void;
  stop(): Promise<void>;
}

export async function startSampleService(
  access: Access,
  options: { traces?: TraceSource } = {},
): Promise<SampleService> {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-admin-'));
  const store = await createSqliteStore({ filename: join(directory, 'shop.db') });
  const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db'), pollIntervalMs: 5 });
  const events = createEventStore({ store, registry: createEventRegistry([noted]) });
  const commands = createEventRegistry([reserve, release, charge]);
  let stockBroken = false;
  const consumers = [
    createConsumer({
      name: 'participants',
      store,
      transport,
      destinations: ['stock.commands', 'payments.commands'],
      registry: commands,
      handlers: sagaParticipant(store, commands, {
        'stock.Reserve': async () => stepSucceeded(),
        'stock.Release': async () => stepSucceeded(),
        'payments.Charge': async () => stepFailed('card declined', { retryable: false }),
      }),
    }),
    createConsumer({
      name: 'stock-counts',
      store,
      transport,
      destinations: ['stock.events'],
      registry: createEventRegistry([noted]),
      maxAttempts: 1,
      handlers: {
        'stock.Counted': async () => {
          if (stockBroken) throw new Error('the stock ledger is locked for the yearly count');
        },
      },
    }),
  ];
  const runner = createProjectionRunner({
    eventStore: events,
    projections: [
      defineProjection({
        name: 'stock_levels',
        registry: createEventRegistry([noted]),
        handlers: { 'stock.Counted': async () => {} },
      }),
    ],
  });
  const relay = createOutboxRelay({ store, transport, idlePollMs: 20 });
  const orchestrator = createSagaOrchestrator({
    store,
    transport,
    sagas: [placeOrder],
    replyTo: 'orders.saga-replies',
  });
  const admin = createAdminHandler({
    service: 'shop',
    store,
    consumers,
    sagas: orchestrator,
    compensationNames: { reserveStock: 'releaseStock' },
    projections: { runner, names: ['stock_levels'] },
    access,
    traces: options.traces,
  });
  const server = createServer(async (request, response) => {
    if (await admin(request, response)) return;
    response.writeHead(404).end();
  });
  for (const consumer of consumers) await consumer.start();
  relay.start();
  await orchestrator.start();
  await runner.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/causeway`,
    async placeDeclinedOrder(orderId) {
      await orchestrator.startSaga(placeOrder, { orderId }, { sagaId: orderId });
      for (let tries = 0; tries < 500; tries++) {
        const saga = await orchestrator.get(orderId);
        if (saga && saga.status !== 'running' && saga.status !== 'compensating') return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`saga ${orderId} did not end`);
    },
    async countStock(sku, metadata = {}) {
      await events.appendToStream(`stock-${sku}`, [{ type: 'stock.Counted', data: { sku, count: 3 } }], {
        publishTo: 'stock.events',
        correlationId: `count-${sku}`,
        metadata,
      });
    },
    breakStock(broken) {
      stockBroken = broken;
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.stop();
      await orchestrator.stop();
      await relay.stop();
      for (const consumer of consumers) await consumer.stop();
      await transport.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
