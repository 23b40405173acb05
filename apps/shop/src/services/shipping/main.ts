/**
 * The shipping service: schedules a shipment per order as a participant of the PlaceOrder saga,
 * refuses country XX, and cancels a scheduled shipment as the compensation.
 */
import {
  causedBy,
  createConsumer,
  type Message,
  type NewMessageOf,
  sagaParticipant,
  stepFailed,
  stepSucceeded,
  type Transaction,
} from '@causeway/core';
import { z } from 'zod';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { runService } from '../../platform/service-runtime.ts';
import { appendAt, readStreamAt } from '../../platform/stream-at-version.ts';
import { shippingCommands, shippingRegistry, statusByEvent } from './shipping-domain.ts';

type ShipmentEvent = NewMessageOf<(typeof shippingRegistry.definitions)[number]>;

const refusedCountries = new Set(['XX']);
const shipmentStream = (orderId: string) => `shipment-${orderId}`;
const orderParams = z.object({ orderId: pathId });

await runService({
  name: 'shipping',
  registry: shippingRegistry,
  async setup({ app, eventStore, store, transport, addConsumer, logRetry }) {
    const current = async (orderId: string, tx: Transaction | null) => {
      const { events, version } = await readStreamAt(eventStore, shipmentStream(orderId), tx);
      const last = events.at(-1);
      return { status: last ? statusByEvent[last.type] : ('NONE' as const), version };
    };
    // Stamped with the command's flow, so the dashboard follows an order into this service.
    const append = (
      orderId: string,
      version: number,
      event: ShipmentEvent,
      tx: Transaction,
      cause: Message,
    ) => appendAt(eventStore, shipmentStream(orderId), version, event, { tx, ...causedBy(cause) });

    app.get('/shipments/:orderId', async (request) => {
      const { orderId } = parseInput(orderParams, request.params, 'path');
      return { orderId, status: (await current(orderId, null)).status };
    });

    addConsumer(
      createConsumer({
        name: 'shipping',
        store,
        transport,
        onRetry: logRetry,
        destinations: ['shipping.commands'],
        registry: shippingCommands,
        handlers: sagaParticipant(store, shippingCommands, {
          'shipping.Schedule': async (command, { tx }) => {
            const { orderId, shippingAddress } = command.data;
            const country = shippingAddress?.country ?? 'US';
            const { status, version } = await current(orderId, tx);
            if (status === 'SCHEDULED') return stepSucceeded();
            if (refusedCountries.has(country)) {
              const reason = `shipping refused: we do not ship to country ${country}`;
              if (status !== 'REFUSED')
                await append(
                  orderId,
                  version,
                  { type: 'shipping.Refused', data: { orderId, country, reason } },
                  tx,
                  command,
                );
              return stepFailed(reason, { retryable: false });
            }
            await append(
              orderId,
              version,
              { type: 'shipping.Scheduled', data: { orderId, country } },
              tx,
              command,
            );
            return stepSucceeded();
          },
          'shipping.Cancel': async (command, { tx }) => {
            const { orderId } = command.data;
            const { status, version } = await current(orderId, tx);
            if (status === 'SCHEDULED')
              await append(orderId, version, { type: 'shipping.Cancelled', data: { orderId } }, tx, command);
            return stepSucceeded();
          },
        }),
      }),
    );
  },
});
