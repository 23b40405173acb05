/**
 * Sharded streams over real stores: three SQLite files, and three PostgreSQL schemas when
 * PostgreSQL runs here. Each stream lives whole on the shard rendezvous hashing names, with its
 * per-stream guarantees; the merged global read gives every event once and each shard's in order;
 * the shard map is written once and checked at every open; the skew report adds up. Rendezvous
 * hashing itself: an even spread, and a new shard takes streams only for itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addShard,
  ConcurrencyError,
  ConfigurationError,
  createEventRegistry,
  defineEvent,
  openShardedEventStore,
  readShardMap,
  readShardMapVersion,
  rendezvousOwner,
  type Store,
} from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createSqliteStore } from '@causeway/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';
import { readMergedLog } from './merged-log.ts';

const noted = defineEvent({ type: 'test.Noted', schema: z.object({ n: z.number().int() }) });
const registry = createEventRegistry([noted]);
const note = (n: number) => ({ type: 'test.Noted' as const, data: { n } });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rendezvous hashing', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `order-${i}`);

  it('spreads keys evenly over the shards', () => {
    const ownerOf = rendezvousOwner(['a', 'b', 'c', 'd']);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ownerOf(key), (counts.get(ownerOf(key)) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const count of counts.values()) expect(count / keys.length).toBeGreaterThan(0.23);
    for (const count of counts.values()) expect(count / keys.length).toBeLessThan(0.27);
  });

  it('a new shard takes keys only for itself, about its share, whatever order the names come in', () => {
    const ownerBefore = rendezvousOwner(['a', 'b', 'c', 'd']);
    const ownerAfter = rendezvousOwner(['e', 'd', 'c', 'b', 'a']);
    const movedTo = keys.filter((key) => ownerBefore(key) !== ownerAfter(key)).map(ownerAfter);
    expect(new Set(movedTo)).toEqual(new Set(['e']));
    const moved = movedTo.length;
    expect(moved / keys.length).toBeGreaterThan(0.17);
    expect(moved / keys.length).toBeLessThan(0.23);
  });
});

function describeShardedStore(backend: string, openShard: (name: string) => Promise<Store>) {
  describe(`sharded event store on ${backend}`, () => {
    const shards: Record<string, Store> = {};
    beforeAll(async () => {
      for (const name of ['s1', 's2', 's3']) shards[name] = await openShard(name);
    });
    afterAll(async () => {
      for (const store of Object.values(shards)) await store.close();
    });

    it('keeps each stream whole on its shard, with its version check, and merges the global logs', async () => {
      const sharded = await openShardedEventStore({ shards, registry });
      expect(sharded.map).toMatchObject({ version: 1, shards: ['s1', 's2', 's3'], joining: null });
      const streams = Array.from({ length: 60 }, (_, i) => `account-${i}`);
      for (const [i, streamId] of streams.entries()) {
        await sharded.appendToStream(streamId, [note(i), note(i)], { expectedVersion: 'noStream' });
        await sharded.appendToStream(streamId, [note(i)], { expectedVersion: 2 });
      }
      await expect(
        sharded.appendToStream(streams[0]!, [note(0)], { expectedVersion: 2 }),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      for (const streamId of streams) {
        const home = sharded.shardOf(streamId);
        expect((await sharded.readStream(streamId)).map((event) => event.streamPosition)).toEqual([1, 2, 3]);
        for (const [name, store] of Object.entries(shards)) {
          expect(await store.events.streamVersion(null, streamId)).toBe(name === home ? 3 : 0);
        }
      }
      // Every shard got some of the 60 streams.
      expect(new Set(streams.map(sharded.shardOf)).size).toBe(3);

      const seen = new Map<string, number[]>();
      // Pages of 7 per shard: the cursor is carried across many reads.
      for (const { shard, event } of await readMergedLog(sharded, 7)) {
        seen.set(shard, [...(seen.get(shard) ?? []), event.globalPosition]);
      }
      const total = [...seen.values()].reduce((sum, positions) => sum + positions.length, 0);
      expect(total).toBe(180);
      for (const positions of seen.values()) {
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(new Set(positions).size).toBe(positions.length);
      }

      const report = await sharded.skew();
      expect(report.shards.map(({ shard }) => shard)).toEqual(['s1', 's2', 's3']);
      expect(report.shards.reduce((sum, { streams }) => sum + streams, 0)).toBe(60);
      expect(report.shards.reduce((sum, { events }) => sum + events, 0)).toBe(180);
      expect(report.shards.reduce((sum, { share }) => sum + share, 0)).toBeCloseTo(1);
      expect(report.skew).toBeGreaterThanOrEqual(1);
      expect(report.skew).toBeLessThan(1.6);
      await sharded.close();
    });

    it('adds a shard online: writers keep writing, streams that hash to it move whole, nothing is lost or doubled', async () => {
      const stores = { m1: await openShard('m1'), m2: await openShard('m2'), m3: await openShard('m3') };
      try {
        const first = await openShardedEventStore({ shards: { m1: stores.m1, m2: stores.m2 }, registry });
        await first.close();
        // The writer is given m3 before the map names it.
        const writer = await openShardedEventStore({ shards: stores, registry, mapRefreshMs: 50 });
        expect(writer.map.shards).toEqual(['m1', 'm2']);
        const streams = Array.from({ length: 80 }, (_, i) => `acct-${i}`);
        const acknowledged = new Map<string, number[]>();
        let next = 0;
        const append = async (streamId: string, expectedVersion?: number) => {
          const n = next++;
          await writer.appendToStream(
            streamId,
            [note(n)],
            expectedVersion === undefined ? {} : { expectedVersion },
          );
          acknowledged.set(streamId, [...(acknowledged.get(streamId) ?? []), n]);
        };
        for (const streamId of streams) for (let i = 0; i < 3; i++) await append(streamId);

        let writing = true;
        let conflicts = 0;
        const loops = Array.from({ length: 4 }, async (_, loop) => {
          for (let i = loop; writing; i += 4) {
            const streamId = streams[i % streams.length]!;
            if (i % 3 !== 0) {
              await append(streamId);
              continue;
            }
            // A command: read, then append at the version read.
            const version = (await writer.readStream(streamId)).length;
            await append(streamId, version).catch((error: unknown) => {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts += 1;
            });
          }
        });
        const moved = await addShard({ shards: stores, newShard: 'm3', readerTtlMs: 2_000 });
        await pause(200);
        writing = false;
        await Promise.all(loops);

        expect(moved.map).toMatchObject({ version: 3, shards: ['m1', 'm2', 'm3'], joining: null });
        const movers = streams.filter((streamId) => rendezvousOwner(['m1', 'm2', 'm3'])(streamId) === 'm3');
        expect(moved.streams).toBe(movers.length);
        expect(movers.length).toBeGreaterThan(10);
        await expect.poll(() => writer.map.version).toBe(3);
        for (const streamId of streams) {
          const events = await writer.readStream(streamId);
          const written = acknowledged.get(streamId)!;
          expect(events.map((event) => event.streamPosition)).toEqual(written.map((_, i) => i + 1));
          expect(events.map((event) => event.data.n).sort((a, b) => a - b)).toEqual(
            [...written].sort((a, b) => a - b),
          );
          const onNew = await stores.m3.events.streamVersion(null, streamId);
          expect(onNew, streamId).toBe(movers.includes(streamId) ? written.length : 0);
        }
        // The merged log: every acknowledged event once.
        const seen = (await readMergedLog(writer, 500)).map(({ event }) => event.data.n as number);
        const all = [...acknowledged.values()].flat();
        expect(seen.length).toBe(all.length);
        expect(new Set(seen)).toEqual(new Set(all));
        expect(all.length).toBeGreaterThan(240);
        expect(conflicts + all.length).toBeGreaterThan(0);
        await writer.close();
      } finally {
        for (const store of Object.values(stores)) await store.close();
      }
    });

    it('a move waits for a process that cannot route by the joining map, and names it; that process stops writing', async () => {
      const stores = { w1: await openShard('w1'), w2: await openShard('w2'), w3: await openShard('w3') };
      const old = await openShardedEventStore({
        shards: { w1: stores.w1, w2: stores.w2 },
        registry,
        mapRefreshMs: 50,
      });
      try {
        await expect(
          addShard({ shards: stores, newShard: 'w3', readerTtlMs: 5_000, waitForReadersMs: 500 }),
        ).rejects.toThrow(/route by an older shard map than version 2/);
        await expect(old.appendToStream('account-x', [note(1)])).rejects.toBeInstanceOf(ConfigurationError);
      } finally {
        await old.close();
        for (const store of Object.values(stores)) await store.close();
      }
    });

    it('a process that has not read the map for half its TTL reads it before its next append', async () => {
      const stores = { v1: await openShard('v1'), v2: await openShard('v2'), v3: await openShard('v3') };
      try {
        const first = await openShardedEventStore({ shards: { v1: stores.v1, v2: stores.v2 }, registry });
        await first.close();
        // It would read the map again only in an hour; its heartbeat is stale after 400 ms.
        const stale = await openShardedEventStore({
          shards: stores,
          registry,
          mapRefreshMs: 3_600_000,
          readerTtlMs: 400,
        });
        const streams = Array.from({ length: 40 }, (_, i) => `late-${i}`);
        for (const streamId of streams) await stale.appendToStream(streamId, [note(1)]);
        await pause(500);
        await addShard({ shards: stores, newShard: 'v3', readerTtlMs: 400 });
        expect(stale.map.version).toBe(1);
        const movers = streams.filter((streamId) => rendezvousOwner(['v1', 'v2', 'v3'])(streamId) === 'v3');
        expect(movers.length).toBeGreaterThan(3);
        for (const streamId of movers) await stale.appendToStream(streamId, [note(2)]);
        expect(stale.map.version).toBe(3);
        for (const streamId of movers) {
          expect(await stores.v3.events.streamVersion(null, streamId), streamId).toBe(2);
          expect((await stale.readStream(streamId)).map((event) => event.data.n)).toEqual([1, 2]);
        }
        await stale.close();
      } finally {
        for (const store of Object.values(stores)) await store.close();
      }
    });

    it('keeps the shard map: a later open must name the same shards; every version stays readable', async () => {
      const again = await openShardedEventStore({ shards, registry });
      expect(again.map.version).toBe(1);
      await again.close();
      const { s1, s2 } = shards;
      await expect(openShardedEventStore({ shards: { s1: s1!, s2: s2! }, registry })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
      expect(await readShardMap(shards.s1!)).toMatchObject({ version: 1, shards: ['s1', 's2', 's3'] });
      expect(await readShardMapVersion(shards.s1!, 1)).toMatchObject({ version: 1 });
      expect(await readShardMapVersion(shards.s1!, 2)).toBeNull();
      await expect(openShardedEventStore({ shards: { 'Bad Name': s1! }, registry })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    });
  });
}

describeShardedStore('SQLite files', async (name) => {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-shards-'));
  return createSqliteStore({ filename: join(directory, `${name}.db`) });
});

describeWithService('postgres', 'sharded event store on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('shards');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeShardedStore('PostgreSQL schemas', (name) =>
    createPostgresStore({ connectionString: database.url, schema: `shard_${name}` }),
  );

  it('an empty merged page is not the end while a shard waits at a gap an open transaction may fill', async () => {
    const stores = {
      g1: await createPostgresStore({ connectionString: database.url, schema: 'shard_g1' }),
      g2: await createPostgresStore({ connectionString: database.url, schema: 'shard_g2' }),
    };
    const sharded = await openShardedEventStore({ shards: stores, registry });
    try {
      const onG1 = Array.from({ length: 40 }, (_, i) => `gap-${i}`).filter(
        (id) => sharded.shardOf(id) === 'g1',
      );
      let finish!: (commit: boolean) => void;
      let appended!: () => void;
      const wasAppended = new Promise<void>((resolve) => {
        appended = resolve;
      });
      const open = stores.g1
        .transaction(async (tx) => {
          await sharded.shard('g1').appendToStream(onG1[0]!, [note(1)], { tx });
          appended();
          if (!(await new Promise<boolean>((resolve) => (finish = resolve)))) throw new Error('rolled back');
        })
        .catch((error: Error) => {
          if (error.message !== 'rolled back') throw error;
        });
      await wasAppended;
      // Committed above the open transaction's position: a gap below it.
      await sharded.appendToStream(onG1[1]!, [note(2)]);
      const held = await sharded.readAll(null, { limit: 10 });
      expect(held.events).toEqual([]);
      expect(held.heldBack).toMatchObject({ shard: 'g1', reason: expect.stringMatching(/^gap at 1/) });
      finish(true);
      await open;
      expect((await readMergedLog(sharded, 10)).map(({ event }) => event.data.n)).toEqual([1, 2]);
    } finally {
      await sharded.close();
      for (const store of Object.values(stores)) await store.close();
    }
  });
});
