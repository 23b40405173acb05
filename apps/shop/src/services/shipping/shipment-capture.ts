/**
 * On PostgreSQL, the shipments table's changes are published as `shipping.ShipmentChanged` on
 * `shipping.changes` by change data capture: no event is written by hand. The slot is named after
 * the service's database (slots are per server), so several shops can share a server.
 */
import type { ConfigurationError, Transport } from '@causeway/core';
import { log } from '../../platform/log.ts';

export const shipmentChangesDestination = 'shipping.changes';
export const shipmentChangedType = 'shipping.ShipmentChanged';

/** A slot name for a database: lower case letters, digits and underscores, at most 63 of them. */
export function shipmentSlotFor(connectionString: string): string {
  const database = decodeURIComponent(new URL(connectionString).pathname.slice(1));
  return `${database
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 50)}_shipments`;
}

/**
 * Starts the capture, or explains why it cannot run: without wal_level=logical the shop works on,
 * and the warning says how to turn capture on.
 */
export async function captureShipments(
  connectionString: string,
  transport: Transport,
): Promise<{ stop(): Promise<void> } | null> {
  const { createPostgresChangeSource, createTransportChangeSink } = await import('@causeway/postgres-cdc');
  const source = createPostgresChangeSource({
    connectionString,
    slot: shipmentSlotFor(connectionString),
    publication: 'shipments_cdc',
    tables: ['shop.shipments'],
    // A restart after a crash can find the old connection still holding the slot for a moment.
    slotBusyTimeoutMs: 30_000,
    onError: (error) => log.warn(`change capture failed, reconnecting: ${String(error)}`),
    onSlotLost: ({ reason }) =>
      log.warn(`replication slot lost (${reason}): copying the shipments table again`),
  });
  try {
    await source.start(
      createTransportChangeSink(transport, {
        type: shipmentChangedType,
        destination: shipmentChangesDestination,
      }),
    );
    return source;
  } catch (error) {
    if ((error as ConfigurationError).details?.reason !== 'wal-level') throw error;
    log.warn(`shipment changes are not published: ${(error as Error).message}`);
    return null;
  }
}
