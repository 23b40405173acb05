import type { Store } from '@causeway/core';
import { createTestDatabase, describeWithService, type TestDatabase } from '@causeway/testing';
import { describeEventStoreConformance } from '@causeway/testing/event-store-conformance';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresStore } from './index.ts';

describeWithService('postgres', 'PostgreSQL event store', () => {
  let database: TestDatabase;
  let schemas = 0;
  beforeAll(async () => {
    database = await createTestDatabase('event_store');
  });
  afterAll(async () => {
    await database?.drop();
  });

  // A fresh schema per store: isolated and much cheaper than a database each.
  const openStore = (): Promise<Store> =>
    createPostgresStore({ connectionString: database.url, schema: `es_${schemas++}` });
  describeEventStoreConformance('postgres', openStore);
});
