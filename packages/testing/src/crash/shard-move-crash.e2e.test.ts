/**
 * Adding a shard under SIGKILL: a writer process appends to 300 streams over two shards without
 * pause while a mover process adds a third, and the mover is killed at random moments of the move
 * (waiting for the writer, or between streams) and started again, until a run finishes. Then the
 * writer is killed too. Every acknowledged event is in its stream, on the shard the final map
 * names, once; nothing appears that was not sent; stream positions have no gap; and the merged log
 * holds each event once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openShardedEventStore, rendezvousOwner, type Store } from '@causeway/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../postgres-test-database.ts';
import { describeWithService } from '../services.ts';
import { readMergedLog } from '../sharding/merged-log.ts';
import { compiledChildScript, runChild } from './compiled-child.ts';
import { openShards, registry, streamIds } from './shard-move-shards.ts';

const childScript = compiledChildScript(new URL('./shard-move-child.ts', import.meta.url));

interface Tally {
  sent: Map<number, string>;
  acked: Map<number, string>;
}

/** Runs the mover; kills it once it has moved `killAfter` streams (or never, for undefined). */
async function runMover(args: string[], killAfter: number | undefined): Promise<'killed' | 'done'> {
  const mover = runChild(childScript, ['mover', ...args], (line, child) => {
    const moved = line.startsWith('moved ') ? Number(line.slice(6)) : -1;
    if (killAfter !== undefined && (moved >= killAfter || (killAfter === 0 && line === 'waiting'))) {
      child.kill('SIGKILL');
    }
  });
  const { code, signal, stderr } = await mover.exited;
  if (signal === 'SIGKILL') return 'killed';
  if (code !== 0) throw new Error(`the mover exited with ${code}: ${stderr}`);
  return 'done';
}

function describeKill(backend: string, location: () => string) {
  it(`${backend}: a shard added while writers write, the mover SIGKILLed mid-move, loses and doubles nothing`, async () => {
    const where = location();
    const args = [backend, where];
    const seeding = await openShards(backend, where);
    await seed(seeding);

    const tally: Tally = { sent: new Map(), acked: new Map() };
    let ready!: () => void;
    const writerReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const writer = runChild(childScript, ['writer', ...args], (line) => {
      const [kind, streamId, n] = line.split(' ');
      if (kind === 'ready') ready();
      if (kind === 'sent') tally.sent.set(Number(n), streamId!);
      if (kind === 'ack') tally.acked.set(Number(n), streamId!);
    });
    try {
      await writerReady;
      const ownerOf = rendezvousOwner(['s1', 's2', 's3']);
      const moving = streamIds.filter((streamId) => ownerOf(streamId) === 's3').length;
      // Killed while it waits for the writer, then at two random points of the move.
      const kills = [
        0,
        1 + Math.floor(Math.random() * (moving / 3)),
        Math.floor(moving / 2) + Math.floor(Math.random() * (moving / 3)),
      ];
      let killed = 0;
      for (const killAfter of kills) if ((await runMover(args, killAfter)) === 'killed') killed += 1;
      expect(await runMover(args, undefined)).toBe('done');
      expect(killed).toBeGreaterThanOrEqual(2);
      const acknowledgedBeforeEnd = tally.acked.size;
      // Writes go on after the move, through the new map.
      await expect
        .poll(() => tally.acked.size, { timeout: 10_000 })
        .toBeGreaterThan(acknowledgedBeforeEnd + 100);
    } finally {
      writer.child.kill('SIGKILL');
      await writer.exited;
    }

    const sharded = await openShardedEventStore({ shards: seeding, registry });
    try {
      expect(sharded.map).toMatchObject({ shards: ['s1', 's2', 's3'], joining: null });
      const found = new Map<number, string>();
      for (const streamId of streamIds) {
        const events = await sharded.readStream(streamId);
        expect(events.map((event) => event.streamPosition)).toEqual(events.map((_, i) => i + 1));
        for (const event of events) {
          const n = (event.data as { n: number }).n;
          expect(found.has(n), `event ${n} appears once`).toBe(false);
          found.set(n, streamId);
        }
        const home = sharded.shardOf(streamId);
        expect(await seeding[home]!.events.streamVersion(null, streamId), `${streamId} on ${home}`).toBe(
          events.length,
        );
      }
      for (const [n, streamId] of tally.acked)
        expect(found.get(n), `acknowledged ${n} in ${streamId}`).toBe(streamId);
      for (const [n, streamId] of found) {
        if (n >= 0) expect(tally.sent.get(n), `event ${n} was sent to ${streamId}`).toBe(streamId);
      }
      expect(tally.acked.size).toBeGreaterThan(500);

      const merged = (await readMergedLog(sharded, 1_000)).map(
        ({ event }) => (event.data as { n: number }).n,
      );
      expect(merged.length).toBe(found.size);
      expect(new Set(merged).size).toBe(merged.length);
    } finally {
      await sharded.close();
      for (const store of Object.values(seeding)) await store.close();
    }
  }, 180_000);
}

/** 300 streams of 3 events on the first two shards (negative n: seeded, not sent by the writer). */
async function seed(shards: Record<string, Store>) {
  const { s1, s2 } = shards;
  const sharded = await openShardedEventStore({ shards: { s1: s1!, s2: s2! }, registry });
  let n = -1;
  for (const streamId of streamIds) {
    await sharded.appendToStream(
      streamId,
      [0, 1, 2].map(() => ({ type: 'test.Counted' as const, data: { n: n-- } })),
    );
  }
  await sharded.close();
}

describeKill('sqlite', () => mkdtempSync(join(tmpdir(), 'causeway-shard-move-')));

describeWithService('postgres', 'shard move on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('shard_move');
  });
  afterAll(async () => {
    await database?.drop();
  });
  describeKill('postgres', () => database.url);
});
