/**
 * The shop end to end on PostgreSQL (one database per service) and NATS JetStream, with the
 * gateway's product cache in Redis. Its databases and streams carry a prefix of their own and are
 * removed afterwards.
 */
import { deleteStreamsWithPrefix } from '@causeway/nats';
import { describeWithService, serviceUrl } from '@causeway/testing';
import pg from 'pg';
import { afterAll } from 'vitest';
import { backendServiceNames } from '../config.ts';
import { describeShopRows } from './shop-rows.ts';

const prefix = `shope2e${Math.random().toString(36).slice(2, 8)}`;
const postgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

describeWithService('postgres', 'shop on PostgreSQL', () => {
  describeWithService('nats', 'and NATS', () => {
    describeWithService('redis', 'and Redis', () => {
      afterAll(async () => {
        await deleteStreamsWithPrefix(serviceUrl('nats'), prefix);
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        try {
          for (const service of [...backendServiceNames, 'gateway']) {
            await client.query(`DROP DATABASE IF EXISTS "${prefix}_${service}" WITH (FORCE)`);
          }
        } finally {
          await client.end();
        }
      });
      describeShopRows('the shop on PostgreSQL + NATS', {
        env: () => ({
          SHOP_POSTGRES_URL: postgresUrl,
          SHOP_POSTGRES_DB_PREFIX: prefix,
          SHOP_TRANSPORT: 'nats',
          NATS_URL: serviceUrl('nats'),
          SHOP_STREAM_PREFIX: prefix,
          SHOP_CACHE: 'redis',
          REDIS_URL: serviceUrl('redis'),
        }),
        scansDatabaseFiles: false,
      });
    });
  });
});
