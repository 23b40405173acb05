import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as cw from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

const dir = mkdtempSync(`${tmpdir()}/causeway-`); // a service's data directory
const store = await createSqliteStore({ filename: `${dir}/shop.db` }); // or createPostgresStore
const transport = createEmbeddedTransport({ filename: `${dir}/transport.db` }); // or NATS, RabbitMQ
const wiring = { store, transport };

// An event, validated on append, and a projection: a read model the events keep up to date.
const orderPlaced = cw.defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ totalCents: z.int() }) });
const events = cw.createEventStore({ store, registry: cw.createEventRegistry([orderPlaced]) });
const orders = cw.defineProjection({
  name: 'orders',
  collections: ['orders'],
  handlers: { 'orders.OrderPlaced': (e, { documents }) => documents.put('orders', e.streamId, e.data) },
});
const projections = cw.createProjectionRunner({ eventStore: events, projections: [orders] });
await projections.start();
const placed = await events.appendToStream('o-1', [{ type: 'orders.OrderPlaced', data: { totalCents: 42 } }]);
await projections.waitFor('orders', placed.consistencyToken); // read-your-writes
const order = await cw.createReadModelReader(store, orders).get('orders', 'o-1');

// A saga whose second step fails, so the first is compensated.
const anOrder = z.object({ orderId: z.string() });
const reserve = cw.defineCommand({ type: 'stock.Reserve', schema: anOrder });
const release = cw.defineCommand({ type: 'stock.Release', schema: anOrder });
const charge = cw.defineCommand({ type: 'billing.Charge', schema: anOrder });
const placeOrder = cw.defineSaga<{ orderId: string }>('PlaceOrder', [
  cw.step('reserve', {
    invoke: (s) => cw.command('stock', reserve, s),
    compensate: (s) => cw.command('stock', release, s),
  }),
  cw.step('charge', { invoke: (s) => cw.command('billing', charge, s) }),
]);
const registry = cw.createEventRegistry([reserve, release, charge]);
const handlers = cw.sagaParticipant(store, registry, {
  'stock.Reserve': async () => cw.stepSucceeded(),
  'stock.Release': async () => cw.stepSucceeded(),
  'billing.Charge': async () => cw.stepFailed('card declined'),
});
const destinations = ['stock', 'billing'];
const participant = cw.createConsumer({ ...wiring, registry, handlers, destinations, name: 'participant' });
let finished = (_status: string) => {};
const ended = new Promise<string>((resolve) => (finished = resolve));
const onFinished = async (saga: cw.SagaInstance) => finished(saga.status);
const sagas = cw.createSagaOrchestrator({ ...wiring, sagas: [placeOrder], replyTo: 'replies', onFinished });
const relay = cw.createOutboxRelay(wiring); // publishes commands and replies
await Promise.all([relay.start(), participant.start(), sagas.start()]);
await sagas.startSaga(placeOrder, { orderId: 'o-1' });
console.log(order, await ended); // { totalCents: 42 } compensated
for (const part of [sagas, participant, relay, projections]) await part.stop();
await Promise.all([transport.close(), store.close()]);
