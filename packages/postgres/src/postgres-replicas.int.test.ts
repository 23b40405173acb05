/**
 * Reads on a real streaming replica (scripts/pg-replica.sh: a hot standby of the test PostgreSQL on
 * port 5433). Replay is paused on it to make it lag for certain: a session read after a write
 * still sees the write (it waits, then reads the primary) while an eventual read does not; once
 * replay goes on, session reads run on the replica. The replica stopped: reads go to the primary,
 * and come back to the replica when it returns. Its lag is reported.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import {
  createEventRegistry,
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
  defineEvent,
  defineProjection,
  type StoreReads,
  sessionPositionOf,
} from '@causeway/core';
import { createTestDatabase, describeWithService, serviceUrl, type TestDatabase } from '@causeway/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createPostgresStore, type PostgresStore } from './index.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The replica's cluster, as scripts/pg-replica.sh makes it. */
const replicaCluster = [
  process.env.PG_VERSION ?? readdirSync('/etc/postgresql').sort().at(-1)!,
  process.env.REPLICA_CLUSTER ?? 'replica',
];

/** A superuser session on the replica, waiting for it to accept connections. */
async function connectToReplica(timeoutMs: number, url = serviceUrl('postgres-replica')): Promise<pg.Client> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await pause(200);
    }
  }
}

const noteRegistry = createEventRegistry([defineEvent({ type: 'test.Note', schema: z.object({}) })]);

describeWithService('postgres-replica', 'Postgres store with a streaming replica', () => {
  let database: TestDatabase;
  let replicaUrl: string;
  /** A superuser session on the replica, for pausing and resuming its replay. */
  let replicaAdmin: pg.Client;
  const stores: PostgresStore[] = [];
  const open = async (options: { sessionWaitMs?: number } = {}) => {
    const store = await createPostgresStore({
      connectionString: database.url,
      schema: `s_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
      replicas: [{ connectionString: replicaUrl, name: 'standby' }],
      sessionWaitMs: options.sessionWaitMs ?? 300,
    });
    stores.push(store);
    // The replica has the new schema before the test reads it.
    await expect.poll(async () => (await store.replicaStatus())[0]?.lagBytes, { timeout: 10_000 }).toBe(0);
    return store;
  };
  const setReplay = async (paused: boolean) => {
    await replicaAdmin.query(paused ? 'SELECT pg_wal_replay_pause()' : 'SELECT pg_wal_replay_resume()');
  };

  beforeAll(async () => {
    database = await createTestDatabase('replicas');
    const url = new URL(database.url);
    const replica = new URL(serviceUrl('postgres-replica'));
    url.host = replica.host;
    replicaUrl = url.toString();
    replicaAdmin = await connectToReplica(5_000);
    // The database is created on the primary; wait until the replica has it too.
    await (await connectToReplica(10_000, replicaUrl)).end();
  });
  afterEach(async () => {
    await setReplay(false).catch(() => {});
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await replicaAdmin?.end().catch(() => {});
    await database?.drop();
  });

  it('a session read sees its write while replay is paused (the primary answers); an eventual read does not; resumed, the replica answers', async () => {
    const store = await open();
    const events = createEventStore({ store, registry: noteRegistry });
    const streamId = `note-${randomUUID()}`;
    await events.appendToStream(streamId, [{ type: 'test.Note', data: {} }], { expectedVersion: 'noStream' });
    await expect.poll(async () => (await store.replicaStatus())[0]?.lagBytes, { timeout: 10_000 }).toBe(0);

    await setReplay(true);
    const written = await events.appendToStream(streamId, [{ type: 'test.Note', data: {} }], {
      expectedVersion: 1,
    });
    const token = written.consistencyToken;
    expect(sessionPositionOf(token)).toBeGreaterThan(0n);
    const readVersion = (consistency: 'strong' | 'session' | 'eventual') =>
      store.read({ consistency, token }, async (reads) => ({
        from: reads.from,
        version: await reads.events.streamVersion(null, streamId),
      }));

    expect(await readVersion('session')).toEqual({ from: 'primary', version: 2 });
    expect(await readVersion('eventual')).toEqual({ from: 'standby', version: 1 });
    expect(await readVersion('strong')).toEqual({ from: 'primary', version: 2 });
    const [status] = await store.replicaStatus();
    expect(status).toMatchObject({ name: 'standby', reachable: true, replayPaused: true });
    expect(status!.lagBytes).toBeGreaterThan(0);

    await setReplay(false);
    await expect
      .poll(() => readVersion('session'), { timeout: 10_000 })
      .toEqual({ from: 'standby', version: 2 });
    // A session read without a token has nothing to wait for.
    const untokened = await store.read({ consistency: 'session' }, async (reads) => reads.from);
    expect(untokened).toBe('standby');
  });

  it('a session read waits for the replica to replay its write when it comes within the wait', async () => {
    const store = await open({ sessionWaitMs: 5_000 });
    const events = createEventStore({ store, registry: noteRegistry });
    const streamId = `note-${randomUUID()}`;
    await setReplay(true);
    const { consistencyToken: token } = await events.appendToStream(streamId, [
      { type: 'test.Note', data: {} },
    ]);
    const reading = store.read({ consistency: 'session', token }, async (reads) => ({
      from: reads.from,
      version: await reads.events.streamVersion(null, streamId),
    }));
    await pause(300);
    await setReplay(false);
    expect(await reading).toEqual({ from: 'standby', version: 1 });
  });

  it('a read of a table the replica has not replayed yet runs on the primary', async () => {
    const store = await open();
    await setReplay(true);
    await store.transaction((tx) => tx.execute('CREATE TABLE made_while_paused (n int)'));
    await store.transaction((tx) => tx.execute('INSERT INTO made_while_paused VALUES (7)'));
    const answer = await store.read({ consistency: 'eventual' }, async (reads) => ({
      from: reads.from,
      rows: await reads.transaction((tx) => tx.query<{ n: number }>('SELECT n FROM made_while_paused')),
    }));
    expect(answer).toEqual({ from: 'primary', rows: [{ n: 7 }] });
  });

  it('refuses an unknown consistency and a malformed token with a typed error', async () => {
    const store = await open();
    await expect(store.read({ consistency: 'fresh' as never }, async () => 1)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.read({ consistency: 'session', token: 'nope' }, async () => 1)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('read models name the same consistency: a session read of a projection sees the write, eventual may not', async () => {
    const store = await open();
    const noted = defineEvent({ type: 'test.Noted', schema: z.object({ text: z.string() }) });
    const registry = createEventRegistry([noted]);
    const events = createEventStore({ store, registry });
    const notes = defineProjection({
      name: 'notes',
      registry,
      collections: ['notes'],
      handlers: {
        'test.Noted': async (message, { documents }) => {
          await documents.put('notes', message.streamId, { text: message.data.text });
        },
      },
    });
    const note = (text: string) => ({ type: 'test.Noted' as const, data: { text } });
    const runner = createProjectionRunner({ eventStore: events, projections: [notes] });
    await runner.start();
    try {
      const streamId = `note-${randomUUID()}`;
      const first = await events.appendToStream(streamId, [note('one')]);
      await runner.waitFor('notes', first.consistencyToken);
      await expect.poll(async () => (await store.replicaStatus())[0]?.lagBytes, { timeout: 10_000 }).toBe(0);
      const count = async (reads: StoreReads) => ({
        from: reads.from,
        n: await createReadModelReader(reads, notes).count('notes'),
      });

      await setReplay(true);
      const second = await events.appendToStream(`note-${randomUUID()}`, [note('two')]);
      const session = await runner.read(
        'notes',
        { consistency: 'session', token: second.consistencyToken },
        count,
      );
      expect(session).toEqual({ from: 'primary', n: 2 });
      expect(await runner.read('notes', { consistency: 'eventual' }, count)).toEqual({
        from: 'standby',
        n: 1,
      });
      expect(await runner.read('notes', { consistency: 'strong' }, count)).toEqual({ from: 'primary', n: 2 });
      await setReplay(false);
      await expect
        .poll(() => runner.read('notes', { consistency: 'session', token: second.consistencyToken }, count), {
          timeout: 10_000,
        })
        .toEqual({ from: 'standby', n: 2 });
    } finally {
      await runner.stop();
    }
  });

  it('the replica stopped: reads go to the primary, its status says unreachable; started again, reads return to it', async () => {
    const store = await open();
    const fromOf = () =>
      store.read({ consistency: 'eventual' }, async (reads) => {
        await reads.documents.count(null, 'anything');
        return reads.from;
      });
    expect(await fromOf()).toBe('standby');
    await replicaAdmin.end().catch(() => {});
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...replicaCluster, 'stop', '-m', 'fast']);
    try {
      for (let i = 0; i < 5; i++) expect(await fromOf()).toBe('primary');
      const [status] = await store.replicaStatus();
      expect(status).toMatchObject({ name: 'standby', reachable: false, lagBytes: null });
    } finally {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...replicaCluster, 'start']);
      replicaAdmin = await connectToReplica(30_000);
    }
    await expect.poll(fromOf, { timeout: 30_000, interval: 200 }).toBe('standby');
    expect((await store.replicaStatus())[0]).toMatchObject({ reachable: true });
  });
});
