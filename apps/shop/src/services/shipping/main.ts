/**
 * The shipping service: schedules a shipment per order as a participant of the PlaceOrder saga,
 * refuses country XX, and cancels a scheduled shipment as the compensation. Its state is a plain
 * table; on PostgreSQL the table's changes are published by change data capture.
 */
import { createConsumer, sagaParticipant, stepFailed, stepSucceeded } from '@causeway/core';
import { z } from 'zod';
import { postgresUrlFor } from '../../config.ts';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { runWhileLeader } from '../../platform/leader-lock.ts';
import { log } from '../../platform/log.ts';
import { runService } from '../../platform/service-runtime.ts';
import { captureShipments, shipmentSlotFor } from './shipment-capture.ts';
import { createShipmentTable, saveShipment, shipmentStatus } from './shipment-table.ts';
import { shippingCommands, shippingRegistry } from './shipping-domain.ts';

const refusedCountries = new Set(['XX']);
const orderParams = z.object({ orderId: pathId });

await runService({
  name: 'shipping',
  registry: shippingRegistry,
  async setup({ app, config, store, transport, addConsumer, consumerLogs, onStart, onStop }) {
    await createShipmentTable(store);

    app.get('/shipments/:orderId', async (request) => {
      const { orderId } = parseInput(orderParams, request.params, 'path');
      return { orderId, status: await store.transaction((tx) => shipmentStatus(tx, orderId)) };
    });

    addConsumer(
      createConsumer({
        name: 'shipping',
        store,
        transport,
        ...consumerLogs,
        destinations: ['shipping.commands'],
        registry: shippingCommands,
        handlers: sagaParticipant(store, shippingCommands, {
          'shipping.Schedule': async (command, { tx }) => {
            const { orderId, shippingAddress } = command.data;
            const country = shippingAddress?.country ?? 'US';
            const status = await shipmentStatus(tx, orderId);
            if (status === 'SCHEDULED') return stepSucceeded();
            if (refusedCountries.has(country)) {
              const reason = `shipping refused: we do not ship to country ${country}`;
              if (status !== 'REFUSED')
                await saveShipment(tx, { orderId, status: 'REFUSED', country, reason });
              return stepFailed(reason, { retryable: false });
            }
            await saveShipment(tx, { orderId, status: 'SCHEDULED', country });
            return stepSucceeded();
          },
          'shipping.Cancel': async (command, { tx }) => {
            const { orderId } = command.data;
            if ((await shipmentStatus(tx, orderId)) === 'SCHEDULED')
              await saveShipment(tx, { orderId, status: 'CANCELLED' });
            return stepSucceeded();
          },
        }),
      }),
    );

    if (config.postgresUrl) {
      const connectionString = postgresUrlFor(config, 'shipping');
      // A replication slot takes one reader: of several shipping processes, one captures.
      onStart(async () => {
        const leadership = runWhileLeader({
          connectionString,
          name: `${shipmentSlotFor(connectionString)}.capture`,
          lead: () => captureShipments(connectionString, transport),
          log: (line) => log.warn(`${line}`),
        });
        onStop(() => leadership.stop());
      });
    }
  },
});
