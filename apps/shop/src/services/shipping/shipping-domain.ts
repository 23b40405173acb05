/**
 * Shipping keeps a row per order (shipment-table.ts), not events. What it publishes is that
 * table's changes, captured from PostgreSQL's WAL: `shipping.ShipmentChanged`, whose data is the
 * change (`op`, `key`, `before`, `after`, `source`) with the row's columns in `after`.
 */
import { createEventRegistry, defineCommand, defineEvent } from '@causeway/core';
import { z } from 'zod';

const shipmentRow = z.looseObject({
  order_id: z.string(),
  status: z.enum(['SCHEDULED', 'REFUSED', 'CANCELLED']),
  country: z.string().nullable(),
});
export const shipmentChanged = defineEvent({
  type: 'shipping.ShipmentChanged',
  schema: z.looseObject({
    op: z.enum(['c', 'u', 'd', 'r', 't']),
    key: z.object({ order_id: z.string() }).nullable(),
    after: shipmentRow.partial().nullable(),
  }),
});
export const shippingRegistry = createEventRegistry([shipmentChanged]);

/**
 * Where an order ships, as it travels: the country in clear (shipping refuses some, sales are
 * counted by it, and alone it names no one), the address as the client gave it sealed under the
 * user's key in the orders service (core's crypto-shredding: `{ $pii, v }`). Forgetting the user
 * destroys that key, so no copy (saga state, outbox, transport log, a dead letter) can be read.
 */
export const shippingAddressInTransit = z.object({
  country: z.string().optional(),
  sealed: z.object({ $pii: z.string(), v: z.string() }).optional(),
});
export type ShippingAddressInTransit = z.infer<typeof shippingAddressInTransit>;

/**
 * Schedule an order's shipment (refused for a country we do not ship to). Shipping keeps the
 * country only; fields beyond the two above (sent in clear before addresses were sealed) are dropped.
 */
export const scheduleShipment = defineCommand({
  type: 'shipping.Schedule',
  schema: z.object({
    orderId: z.string().min(1),
    shippingAddress: shippingAddressInTransit.optional(),
  }),
});
/** Cancel a scheduled shipment (the compensation of scheduleShipment). */
export const cancelShipment = defineCommand({
  type: 'shipping.Cancel',
  schema: z.object({ orderId: z.string().min(1) }),
});
export const shippingCommands = createEventRegistry([scheduleShipment, cancelShipment]);
