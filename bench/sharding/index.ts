/**
 * The sharding bench (`npm run bench -- sharding [--quick]`): appends of one event to one of
 * 10,000 streams, 16 loops, through a sharded event store of 1, 2 and 4 shards, beside the plain
 * event store on one store in the same run. PostgreSQL shards are databases of the one local
 * server and SQLite shards are files on the one local disk, so the figures show what routing costs
 * and what several databases on the same two cores give, not what shards on their own machines
 * would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEventRegistry,
  createEventStore,
  defineEvent,
  openShardedEventStore,
  type Store,
} from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';
import { createBenchDatabase } from '../store/postgres-bench-database.ts';
import type { BenchOptions } from '../support/bench-options.ts';
import { measureThroughput } from '../support/measure.ts';
import { type Figure, figure } from '../support/report.ts';

const registry = createEventRegistry([
  defineEvent({ type: 'bench.Counted', schema: z.object({ n: z.number() }) }),
]);
const concurrency = 16;
const streams = 10_000;

interface Backend {
  name: string;
  /** A fresh store for shard `index`, and how to remove everything made. */
  open(index: number): Promise<Store>;
  remove(): Promise<void>;
}

function postgresBackend(): Backend {
  const databases: Array<Awaited<ReturnType<typeof createBenchDatabase>>> = [];
  return {
    name: 'postgres',
    async open() {
      const database = await createBenchDatabase();
      databases.push(database);
      return createPostgresStore({ connectionString: database.url, schema: 'bench' });
    },
    async remove() {
      for (const database of databases) await database.drop();
    },
  };
}

function sqliteBackend(): Backend {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-bench-shards-'));
  let files = 0;
  return {
    name: 'sqlite',
    open: async () => createSqliteStore({ filename: join(directory, `shard-${files++}.db`) }),
    remove: async () => rmSync(directory, { recursive: true, force: true }),
  };
}

async function figuresOn(backend: Backend, options: BenchOptions): Promise<Figure[]> {
  const point = { ...options, concurrency };
  let counter = 0;
  const event = () => ({ type: 'bench.Counted' as const, data: { n: counter } });
  const streamOf = () => `counter-${counter++ % streams}`;

  const plainStore = await backend.open(0);
  const plain = createEventStore({ store: plainStore, registry });
  const baseline = await measureThroughput(
    async () => {
      await plain.appendToStream(streamOf(), [event()]);
      return 1;
    },
    { ...point, label: `${backend.name}: event store, one store` },
  );
  await plainStore.close();

  const figures: Figure[] = [];
  for (const count of [1, 2, 4]) {
    const shards: Record<string, Store> = {};
    for (let i = 0; i < count; i++) shards[`s${i + 1}`] = await backend.open(i);
    const sharded = await openShardedEventStore({ shards, registry });
    const value = await measureThroughput(
      async () => {
        await sharded.appendToStream(streamOf(), [event()]);
        return 1;
      },
      { ...point, label: `${backend.name}: sharded, ${count} shard${count === 1 ? '' : 's'}` },
    );
    await sharded.close();
    for (const store of Object.values(shards)) await store.close();
    figures.push(
      figure({
        name: `sharding.${backend.name}.append.shards${count}`,
        value,
        unit: 'events/s',
        baseline,
        baselineLabel: `the event store on one ${backend.name === 'postgres' ? 'database' : 'file'}, ${concurrency} loops`,
      }),
    );
  }
  return figures;
}

export async function runSuite(options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const backend of [postgresBackend(), sqliteBackend()]) {
    try {
      figures.push(...(await figuresOn(backend, options)));
    } finally {
      await backend.remove();
    }
  }
  return figures;
}
