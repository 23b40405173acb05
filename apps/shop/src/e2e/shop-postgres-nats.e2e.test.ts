/**
 * The shop end to end on PostgreSQL (one database per service) and NATS JetStream, with the
 * gateway's product cache in Redis. Its databases and streams carry a prefix of their own and are
 * removed afterwards.
 */
import { describeWithService, serviceUrl } from '@causeway/testing';
import { afterAll } from 'vitest';
import { postgresNatsShop } from './postgres-nats-shop.ts';
import { describeShopRows } from './shop-rows.ts';

const backends = postgresNatsShop('shope2e');

describeWithService('postgres', 'shop on PostgreSQL', () => {
  describeWithService('nats', 'and NATS', () => {
    describeWithService('redis', 'and Redis', () => {
      afterAll(() => backends.remove());
      describeShopRows('the shop on PostgreSQL + NATS', {
        env: () => ({ ...backends.env(), SHOP_CACHE: 'redis', REDIS_URL: serviceUrl('redis') }),
        scansDatabaseFiles: false,
        changeCapture: { natsUrl: serviceUrl('nats'), streamPrefix: backends.env().SHOP_STREAM_PREFIX! },
      });
    });
  });
});
