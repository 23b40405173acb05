/**
 * Two processes' worth of one projection (two runners, each on its own pool to one PostgreSQL
 * database) applying the same log while events arrive: every event is applied once, whichever
 * runner applies it, and both runners' waitFor see the other's work. (SQLite's writers are one
 * per process and one at a time across processes, so there the batches take turns by themselves;
 * two SQLite connections in one process would wait on each other's lock without an event loop
 * turn, which is why this runs on PostgreSQL only.)
 */
import {
  createEventRegistry,
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
  defineEvent,
  defineProjection,
  type Store,
} from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';

const counted = defineEvent({ type: 'test.Counted', schema: z.object({ n: z.number().int() }) });
const registry = createEventRegistry([counted]);
/** Adds one per event to its stream's document: an event applied twice shows as one too many. */
const tallies = defineProjection({
  name: 'tallies',
  registry,
  collections: ['tallies'],
  handlers: {
    'test.Counted': async (event, { documents }) => {
      const tally = (await documents.get<{ count: number }>('tallies', event.streamId)) ?? { count: 0 };
      await documents.put('tallies', event.streamId, { count: tally.count + 1 });
    },
  },
});

function describeCompeting(backend: string, open: () => Promise<[Store, Store]>) {
  describe(`two runners of one projection on ${backend}`, () => {
    it('apply every event once between them, and each waits for the other’s work', async () => {
      const [first, second] = await open();
      const runners = [first, second].map((store) =>
        createProjectionRunner({
          eventStore: createEventStore({ store, registry }),
          projections: [tallies],
          batchSize: 5,
          idlePollMs: 10,
        }),
      );
      try {
        await Promise.all(runners.map((runner) => runner.start()));
        const writers = [first, second].map((store) => createEventStore({ store, registry }));
        let last = '';
        for (let i = 0; i < 300; i++) {
          const outcome = await writers[i % 2]!.appendToStream(`tally-${i % 10}`, [
            { type: 'test.Counted', data: { n: i } },
          ]);
          last = outcome.consistencyToken;
        }
        for (const runner of runners) await runner.waitFor('tallies', last, { timeoutMs: 20_000 });
        const reader = createReadModelReader(first, tallies);
        for (let stream = 0; stream < 10; stream++) {
          expect(await reader.get('tallies', `tally-${stream}`), `tally-${stream}`).toEqual({ count: 30 });
        }
      } finally {
        for (const runner of runners) await runner.stop();
        await first.close();
        await second.close();
      }
    }, 60_000);
  });
}

describeWithService('postgres', 'competing projection runners on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('competing');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeCompeting('PostgreSQL', async () => [
    await createPostgresStore({ connectionString: database.url, schema: 'competing' }),
    await createPostgresStore({ connectionString: database.url, schema: 'competing' }),
  ]);
});
