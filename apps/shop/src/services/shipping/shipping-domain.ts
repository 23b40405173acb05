/** Shipments, one stream per order: scheduled, refused (country XX) or cancelled. */
import { createEventRegistry, defineCommand, defineEvent } from '@causeway/core';
import { z } from 'zod';

const shipment = z.object({
  orderId: z.string(),
  country: z.string().optional(),
  reason: z.string().optional(),
});
export const shipmentScheduled = defineEvent({ type: 'shipping.Scheduled', schema: shipment });
export const shipmentRefused = defineEvent({ type: 'shipping.Refused', schema: shipment });
export const shipmentCancelled = defineEvent({ type: 'shipping.Cancelled', schema: shipment });
export const shippingRegistry = createEventRegistry([shipmentScheduled, shipmentRefused, shipmentCancelled]);

export const statusByEvent = {
  'shipping.Scheduled': 'SCHEDULED',
  'shipping.Refused': 'REFUSED',
  'shipping.Cancelled': 'CANCELLED',
} as const;

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
