/**
 * The shop end to end on PostgreSQL (one database per service) with a streaming replica that the
 * query service reads from, NATS JetStream, and the gateway's cache in Redis, with two processes of
 * every service that may run several times (SHOP_INSTANCES=all=2: all but analytics and the
 * gateway): every row holds while relays share each outbox, consumers share each group, saga
 * timers and projections run in both processes, and shipping's capture runs in one of them. (The
 * embedded run, shop.e2e.test.ts, is the one-process-per-service deployment.) Its databases and
 * streams carry a prefix of their own and are removed afterwards.
 */
import { describeWithService, serviceUrl } from '@causeway/testing';
import { afterAll } from 'vitest';
import { postgresNatsShop } from './postgres-nats-shop.ts';
import { describeShopRows } from './shop-rows.ts';

const backends = postgresNatsShop('shope2e');

describeWithService('postgres', 'shop on PostgreSQL', () => {
  describeWithService('nats', 'and NATS', () => {
    describeWithService('redis', 'and Redis', () => {
      describeWithService('postgres-replica', 'and a PostgreSQL replica', () => {
        afterAll(() => backends.remove());
        describeShopRows('the shop on PostgreSQL + NATS, two processes of each service', {
          env: () => ({
            ...backends.env(),
            SHOP_INSTANCES: 'all=2',
            SHOP_POSTGRES_REPLICA_URL: serviceUrl('postgres-replica'),
            SHOP_CACHE: 'redis',
            REDIS_URL: serviceUrl('redis'),
          }),
          scansDatabaseFiles: false,
          changeCapture: { natsUrl: serviceUrl('nats'), streamPrefix: backends.env().SHOP_STREAM_PREFIX! },
        });
      });
    });
  });
});
