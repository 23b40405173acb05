/**
 * A shop on PostgreSQL (one database per service) and NATS JetStream for an e2e test: settings
 * under a prefix of its own, and the removal of the databases and streams it made.
 */
import { deleteStreamsWithPrefix } from '@causeway/nats';
import { dropDatabasesWithSlots, serviceUrl } from '@causeway/testing';
import { backendServiceNames } from '../config.ts';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export function postgresNatsShop(label: string) {
  const prefix = `${label}${Math.random().toString(36).slice(2, 8)}`;
  return {
    env: (): Record<string, string> => ({
      SHOP_POSTGRES_URL: postgresUrl,
      SHOP_POSTGRES_DB_PREFIX: prefix,
      SHOP_TRANSPORT: 'nats',
      NATS_URL: serviceUrl('nats'),
      SHOP_STREAM_PREFIX: prefix,
    }),
    /** Drops the databases and streams; KEEP_SHOP_DATA=1 keeps them to look into after a run. */
    async remove() {
      if (process.env.KEEP_SHOP_DATA) {
        console.log(`[shop] KEEP_SHOP_DATA: kept databases ${prefix}_* and streams ${prefix}*`);
        return;
      }
      await deleteStreamsWithPrefix(serviceUrl('nats'), prefix);
      // Shipping's change capture keeps a replication slot, which would stop the drop.
      await dropDatabasesWithSlots(
        [...backendServiceNames, 'gateway'].map((service) => `${prefix}_${service}`),
      );
    },
  };
}
