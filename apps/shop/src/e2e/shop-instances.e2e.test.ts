/**
 * The shop with two processes of every service that may run several times (SHOP_INSTANCES=all=2:
 * all but analytics and the gateway) on PostgreSQL + NATS, with the gateway's cache in Redis:
 * every row of SHOP-API.md holds when the relays share each outbox, consumers share each group,
 * saga timers and projections run in both processes, and shipping's capture runs in one of them.
 */
import { describeWithService, serviceUrl } from '@causeway/testing';
import { afterAll } from 'vitest';
import { postgresNatsShop } from './postgres-nats-shop.ts';
import { describeShopRows } from './shop-rows.ts';

const backends = postgresNatsShop('shopx2');

describeWithService('postgres', 'shop on PostgreSQL', () => {
  describeWithService('nats', 'and NATS', () => {
    describeWithService('redis', 'and Redis', () => {
      afterAll(() => backends.remove());
      describeShopRows('the shop with two processes of each service on PostgreSQL + NATS', {
        env: () => ({
          ...backends.env(),
          SHOP_INSTANCES: 'all=2',
          SHOP_CACHE: 'redis',
          REDIS_URL: serviceUrl('redis'),
        }),
        scansDatabaseFiles: false,
        changeCapture: { natsUrl: serviceUrl('nats'), streamPrefix: backends.env().SHOP_STREAM_PREFIX! },
      });
    });
  });
});
