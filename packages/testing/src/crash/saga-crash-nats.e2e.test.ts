/**
 * Sagas under SIGKILL on PostgreSQL (a schema per service) joined by NATS JetStream: the scenario
 * of saga-crash-scenario.ts.
 */
import { deleteStreamsWithPrefix } from '@causeway/nats';
import { afterAll, beforeAll, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService, serviceUrl } from '../services.ts';
import { runSagaCrashScenario } from './saga-crash-scenario.ts';

describeWithService('nats', 'saga crash: NATS JetStream', () => {
  describeWithService('postgres', 'with PostgreSQL stores', () => {
    const servers = serviceUrl('nats');
    const streamPrefix = `Tsaga${Math.random().toString(36).slice(2, 10)}`;
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase('saga_crash_nats');
    });
    afterAll(async () => {
      await deleteStreamsWithPrefix(servers, streamPrefix);
      await database?.drop();
    });

    it('sagas under SIGKILL of the orchestrator (between steps, during compensation) and of participants (mid-command, before ack), and at random, on PostgreSQL + NATS: every saga ends completed or compensated, every effect applied once', async () => {
      await runSagaCrashScenario({
        label: 'NATS + PostgreSQL',
        storeOf: (role) => ({ kind: 'postgres', url: database.url, schema: `saga_${role}` }),
        transport: { kind: 'nats', servers, streamPrefix },
      });
    }, 480_000);
  });
});
