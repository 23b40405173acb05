/**
 * Shipping's state: one row per order in a plain table, not events. On PostgreSQL its changes
 * leave the service by change data capture (shipment-capture.ts), which is how a service that is
 * not event-sourced takes part.
 */
import type { Store, Transaction } from '@causeway/core';

export type ShipmentStatus = 'NONE' | 'SCHEDULED' | 'REFUSED' | 'CANCELLED';

export async function createShipmentTable(store: Store): Promise<void> {
  await store.transaction((tx) =>
    tx.execute(`CREATE TABLE IF NOT EXISTS shipments (
      order_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      country TEXT,
      reason TEXT,
      updated_at TEXT NOT NULL
    )`),
  );
}

export async function shipmentStatus(tx: Transaction, orderId: string): Promise<ShipmentStatus> {
  const [row] = await tx.query<{ status: ShipmentStatus }>(
    'SELECT status FROM shipments WHERE order_id = $1',
    [orderId],
  );
  return row?.status ?? 'NONE';
}

export async function saveShipment(
  tx: Transaction,
  shipment: { orderId: string; status: Exclude<ShipmentStatus, 'NONE'>; country?: string; reason?: string },
): Promise<void> {
  await tx.execute(
    `INSERT INTO shipments (order_id, status, country, reason, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, country = COALESCE(excluded.country, shipments.country),
       reason = excluded.reason, updated_at = excluded.updated_at`,
    [
      shipment.orderId,
      shipment.status,
      shipment.country ?? null,
      shipment.reason ?? null,
      new Date().toISOString(),
    ],
  );
}
