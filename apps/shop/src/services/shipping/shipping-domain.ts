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

/** Schedule an order's shipment to its address (refused for a country we do not ship to). */
export const scheduleShipment = defineCommand({
  type: 'shipping.Schedule',
  schema: z.object({
    orderId: z.string().min(1),
    shippingAddress: z.object({ country: z.string().optional() }).passthrough().optional(),
  }),
});
/** Cancel a scheduled shipment (the compensation of scheduleShipment). */
export const cancelShipment = defineCommand({
  type: 'shipping.Cancel',
  schema: z.object({ orderId: z.string().min(1) }),
});
export const shippingCommands = createEventRegistry([scheduleShipment, cancelShipment]);
