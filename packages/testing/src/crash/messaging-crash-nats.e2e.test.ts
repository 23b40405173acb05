import { deleteStreamsWithPrefix } from '@causeway/nats';
import { createPostgresStore } from '@causeway/postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService, serviceUrl } from '../services.ts';
import type { CrashStoreSpec } from './messaging-crash-config.ts';
import { runMessagingCrashScenario } from './messaging-crash-scenario.ts';

describeWithService('nats', 'messaging crash: NATS JetStream', () => {
  describeWithService('postgres', 'with PostgreSQL stores', () => {
    const servers = serviceUrl('nats');
    const streamPrefix = `Tcrash${Math.random().toString(36).slice(2, 10)}`;
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase('messaging_crash_nats');
    });
    afterAll(async () => {
      await deleteStreamsWithPrefix(servers, streamPrefix);
      await database?.drop();
    });

    it('SIGKILL of relay (after publish, mid-batch) and consumer (before ack, mid-batch) and at random, many times: nothing lost, every effect once, each stream in order', async () => {
      const result = await runMessagingCrashScenario({
        label: 'NATS + PostgreSQL',
        sourceSpec: { kind: 'postgres', url: database.url, schema: 'service_a' },
        sinkSpec: { kind: 'postgres', url: database.url, schema: 'service_b' },
        openStore: (spec: CrashStoreSpec) => {
          if (spec.kind !== 'postgres') throw new Error('PostgreSQL stores only');
          return createPostgresStore({ connectionString: spec.url, schema: spec.schema, poolSize: 4 });
        },
        transport: { kind: 'nats', servers, streamPrefix },
        destination: 'a_events',
        group: 'b',
      });
      console.info('[messaging crash, NATS + PostgreSQL]', JSON.stringify(result));
      expect(result.consumerKillsMidBatch).toBeGreaterThan(0);
    }, 360_000);
  });
});
