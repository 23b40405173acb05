import { deleteStreamsWithPrefix } from '@causeway/nats';
import { createPostgresStore } from '@causeway/postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeRequiring, isPostgresReachable, isServiceListening, serviceUrl } from '../services.ts';
import type { CrashStoreSpec } from './messaging-crash-config.ts';
import { runMessagingCrashScenario } from './messaging-crash-scenario.ts';

/** Why the WAL relay cannot run here, or null: it needs NATS, and PostgreSQL with wal_level=logical. */
async function walRelayMissing(): Promise<string | null> {
  if (!(await isServiceListening('nats'))) return `NATS not reachable at ${serviceUrl('nats')}`;
  if (!(await isPostgresReachable())) return `PostgreSQL not reachable at ${serviceUrl('postgres')}`;
  const client = new pg.Client({ connectionString: serviceUrl('postgres') });
  client.on('error', () => {});
  await client.connect();
  try {
    const level = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
    return level === 'logical'
      ? null
      : `PostgreSQL runs with wal_level=${level}; the WAL relay needs logical (.ci/run sets it)`;
  } finally {
    await client.end().catch(() => {});
  }
}

describeRequiring(
  'messaging crash: the WAL-fed relay, NATS JetStream + PostgreSQL',
  await walRelayMissing(),
  () => {
    const servers = serviceUrl('nats');
    const streamPrefix = `Twal${Math.random().toString(36).slice(2, 10)}`;
    const slot = `cw_crash_wal_${Math.random().toString(36).slice(2, 10)}`;
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase('messaging_crash_wal');
    });
    afterAll(async () => {
      await deleteStreamsWithPrefix(servers, streamPrefix).catch(() => {});
      // The drop removes the relay's slot too: a slot pins WAL on the server.
      await database?.drop();
    });

    it('SIGKILL of the WAL relay (after publish, mid-batch, at random) and of the consumer, many times: nothing lost, every effect once, each stream in order, every row marked published', async () => {
      const result = await runMessagingCrashScenario({
        label: 'WAL relay, NATS + PostgreSQL',
        sourceSpec: { kind: 'postgres', url: database.url, schema: 'service_a' },
        sinkSpec: { kind: 'postgres', url: database.url, schema: 'service_b' },
        openStore: (spec: CrashStoreSpec) => {
          if (spec.kind !== 'postgres') throw new Error('PostgreSQL stores only');
          return createPostgresStore({ connectionString: spec.url, schema: spec.schema, poolSize: 4 });
        },
        transport: { kind: 'nats', servers, streamPrefix },
        destination: 'a_events',
        group: 'b',
        walRelaySlot: slot,
      });
      console.info('[messaging crash, WAL relay, NATS + PostgreSQL]', JSON.stringify(result));
      expect(result.kills['relay-after-publish']).toBeGreaterThanOrEqual(10);
    }, 360_000);
  },
);
