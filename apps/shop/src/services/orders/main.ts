/**
 * The orders service: places orders (the event and the saga's start in one transaction), runs the
 * PlaceOrder saga, and serves orders and their sagas. It decides an order from its own replicas
 * (replicas.ts: products, user ids, stock), kept from the other services' events, so catalog and
 * users may be down: names and prices are copied into each order when it is placed.
 */
import {
  createConsumer,
  createEventRegistry,
  createSagaOrchestrator,
  NotFoundError,
  sagaParticipant,
  stepFailed,
  stepSucceeded,
  type Transaction,
} from '@causeway/core';
import { z } from 'zod';
import { requireAdmin } from '../../platform/admin-guard.ts';
import { consistencyHeader, consistencyTokenOf } from '../../platform/consistency-token.ts';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { log } from '../../platform/log.ts';
import { BusinessRuleError, ConflictError } from '../../platform/problem.ts';
import { runService } from '../../platform/service-runtime.ts';
import { appendAt, readStreamAt } from '../../platform/stream-at-version.ts';
import {
  compensationOf,
  definePlaceOrder,
  type NewOrderEvent,
  type OrderItem,
  orderOf,
  orderStream,
  ordersCommands,
  ordersRegistry,
  type PlaceOrderData,
  placeOrderRequest,
} from './orders-domain.ts';
import { createOrderReplicas, replicaSources } from './replicas.ts';
import {
  alsoForgetShippingAddresses,
  createShippingAddressSeal,
  shippingAddressView,
} from './shipping-address.ts';

const placeBody = placeOrderRequest.extend({ orderId: z.string().min(1).max(100) });
const idParams = z.object({ id: pathId });
const productParams = z.object({ productId: pathId });
/**
 * An id the replicas do not know yet may have been created a moment ago: waited for this long,
 * then 404. A client that sends the Consistency-Token of its write is waited for exactly instead.
 */
const replicaWaits = { unknownIdMs: 3_000, tokenMs: 5_000 };
const tokenOf = (headers: Record<string, unknown>) => {
  const token = headers[consistencyHeader];
  return typeof token === 'string' ? token : undefined;
};

await runService({
  name: 'orders',
  registry: ordersRegistry,
  async setup({
    app,
    config,
    eventStore,
    store,
    transport,
    addConsumer,
    consumerLogs,
    onStart,
    onStop,
    reportSagas,
  }) {
    const placeOrder = definePlaceOrder(config.paymentTimeoutMs);
    const replicas = createOrderReplicas(store, replicaWaits);
    const addresses = createShippingAddressSeal(store);
    const loadOrder = async (orderId: string, tx: Transaction | null) => {
      const { events, version } = await readStreamAt(eventStore, orderStream(orderId), tx);
      return { order: orderOf(events), version };
    };
    const appendToOrder = (orderId: string, version: number, event: NewOrderEvent, tx: Transaction) =>
      appendAt(eventStore, orderStream(orderId), version, event, {
        tx,
        publishTo: 'orders.events',
        correlationId: orderId,
      });

    const orchestrator = createSagaOrchestrator({
      store,
      transport,
      sagas: [placeOrder],
      replyTo: 'orders.saga-replies',
      timerPollMs: 100,
      onError: (error) => log.warn(`saga timers: ${String(error)}`),
      async onFinished(saga, tx) {
        const { order, version } = await loadOrder(saga.sagaId, tx);
        if (order?.status !== 'PENDING') return;
        if (saga.status === 'completed') {
          const { orderId, userId, items, totalCents, placedAt } = order;
          await appendToOrder(
            orderId,
            version,
            { type: 'orders.OrderConfirmed', data: { orderId, userId, items, totalCents, placedAt } },
            tx,
          );
        } else if (saga.status === 'compensated') {
          const reason = saga.reason ?? 'cancelled';
          await appendToOrder(
            order.orderId,
            version,
            { type: 'orders.OrderCancelled', data: { orderId: order.orderId, userId: order.userId, reason } },
            tx,
          );
        }
      },
    });
    // Its sagas show on this service's own page (@causeway/admin), with the dead ones' redrive.
    reportSagas(orchestrator, compensationOf);
    onStart(() => orchestrator.start());
    onStop(() => orchestrator.stop());

    /**
     * The order's lines with name and price from the replicas, and their currency: one per order,
     * since a total of cents in two currencies means nothing (422 otherwise). An unknown user or
     * product is a 404 from here: neither catalog nor users is asked.
     */
    async function linesFor(
      userId: string,
      items: Array<{ productId: string; quantity: number }>,
    ): Promise<{ items: OrderItem[]; currency: string }> {
      const found = await replicas.partsOf(
        userId,
        items.map((item) => item.productId),
      );
      const currencies = [...new Set(found.map((product) => product.currency))];
      if (currencies.length > 1) {
        throw new BusinessRuleError(
          'mixed-currencies',
          `The order's products are priced in ${currencies.join(' and ')}: place one order per currency`,
        );
      }
      return {
        items: items.map((item, index) => ({
          productId: item.productId,
          name: found[index]!.name,
          unitPriceCents: found[index]!.priceCents,
          quantity: item.quantity,
        })),
        currency: found[0]!.currency,
      };
    }

    app.post('/orders', async (request, reply) => {
      const body = parseInput(placeBody, request.body);
      await replicas.awaitToken(tokenOf(request.headers));
      const { items, currency } = await linesFor(body.userId, body.items);
      const totalCents = items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
      const placedAt = new Date().toISOString();
      const placed = await store.transaction(async (tx) => {
        const result = await eventStore.appendToStream(
          orderStream(body.orderId),
          [
            {
              type: 'orders.OrderPlaced',
              data: {
                orderId: body.orderId,
                userId: body.userId,
                items,
                totalCents,
                currency,
                placedAt,
                ...(body.shippingAddress?.country ? { shipToCountry: body.shippingAddress.country } : {}),
              },
            },
          ],
          { tx, expectedVersion: 'noStream', publishTo: 'orders.events', correlationId: body.orderId },
        );
        await orchestrator.startSaga(
          placeOrder,
          {
            orderId: body.orderId,
            userId: body.userId,
            items,
            totalCents,
            currency,
            payment: body.payment,
            // Sealed under the user's key before the saga stores it or sends it to shipping.
            ...(body.shippingAddress
              ? { shippingAddress: await addresses.seal(tx, body.userId, body.shippingAddress) }
              : {}),
          },
          { sagaId: body.orderId, correlationId: body.orderId, tx },
        );
        return result;
      });
      reply.header(consistencyHeader, consistencyTokenOf(placed.events));
      return reply.status(202).send({ orderId: body.orderId, status: 'PENDING' });
    });

    app.get('/stock/:productId', async (request) => {
      const { productId } = parseInput(productParams, request.params, 'path');
      return replicas.stockOf(productId);
    });

    app.get('/orders/:id', async (request) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const { order } = await loadOrder(id, null);
      if (!order) throw new NotFoundError('Order', id);
      const placedWith = (await store.sagas.get(null, id))?.data as PlaceOrderData | undefined;
      return {
        id: order.orderId,
        status: order.status,
        userId: order.userId,
        items: order.items,
        totalCents: order.totalCents,
        currency: order.currency,
        createdAt: order.placedAt,
        placedAt: order.placedAt,
        ...(order.closedAt ? { closedAt: order.closedAt } : {}),
        ...(order.cancelReason ? { cancelReason: order.cancelReason } : {}),
        ...(await shippingAddressView(addresses, placedWith?.shippingAddress)),
      };
    });

    app.get('/sagas/:id', async (request) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const saga = await orchestrator.get(id);
      if (!saga) throw new NotFoundError('Saga', id);
      return {
        id: saga.sagaId,
        type: saga.sagaName,
        status: saga.status,
        reason: saga.reason,
        correlationId: saga.correlationId,
        steps: saga.steps.map((step) => ({
          name: step.name,
          status: step.status,
          attempts: step.attempts,
          compensationAttempts: step.compensationAttempts,
          startedAt: step.startedAt,
          endedAt: step.endedAt,
          ...(step.error ? { error: step.error } : {}),
        })),
        compensations: compensationNames(saga.steps),
      };
    });
    // Listing and reading sagas are the admin endpoints every service has (service-admin.ts).
    app.post('/admin/sagas/:id/redrive', { preHandler: requireAdmin(config) }, async (request) => {
      const { id } = parseInput(idParams, request.params, 'path');
      const saga = await orchestrator.get(id);
      if (!saga) throw new NotFoundError('Saga', id);
      if (saga.status !== 'dead')
        throw new ConflictError(`Saga ${id} is ${saga.status}, not dead: nothing to redrive`);
      return orchestrator.redrive(id);
    });

    addConsumer(
      createConsumer({
        name: 'orders',
        store,
        transport,
        ...consumerLogs,
        destinations: ['catalog.events', 'users.events', 'inventory.events', 'orders.commands'],
        registry: createEventRegistry([...replicaSources, ...ordersCommands.definitions]),
        handlers: {
          ...alsoForgetShippingAddresses(addresses, replicas.handlers),
          ...sagaParticipant(store, ordersCommands, {
            'orders.Create': async (command, { tx }) => {
              const { order } = await loadOrder(command.data.orderId, tx);
              if (!order) return stepFailed('no such order');
              return order.status === 'CANCELLED' ? stepFailed('order was cancelled') : stepSucceeded();
            },
            'orders.Cancel': async (command, { tx }) => {
              const { orderId } = command.data;
              const { order, version } = await loadOrder(orderId, tx);
              if (order?.status === 'PENDING') {
                const saga = await store.sagas.get(tx, orderId);
                await appendToOrder(
                  orderId,
                  version,
                  {
                    type: 'orders.OrderCancelled',
                    data: { orderId, userId: order.userId, reason: saga?.reason ?? 'cancelled' },
                  },
                  tx,
                );
              }
              return stepSucceeded();
            },
          }),
        },
      }),
    );
  },
});

/** The compensations that ran or run, in the order they did (reverse of the steps). */
function compensationNames(
  steps: ReadonlyArray<{
    name: string;
    status: string;
    compensationAttempts: number;
    endedAt: string | null;
    error: string | null;
  }>,
) {
  return steps
    .filter((step) => step.status === 'compensated' || step.status === 'compensating')
    .reverse()
    .map((step) => ({
      name: compensationOf[step.name] ?? `compensate ${step.name}`,
      of: step.name,
      status: step.status,
      attempts: step.compensationAttempts,
      endedAt: step.endedAt,
    }));
}
