/**
 * The gateway's Idempotency-Keys over a real store (SQLite, one file shared as by the processes of
 * one gateway) and a real Redis: two gateway processes' worth of it run a key's work once between
 * them, expired keys are used afresh and pruned, and Redis out of reach leaves the store answering.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cache, createMemoryCache, type Store } from '@causeway/core';
import { createRedisCache } from '@causeway/redis';
import { createSqliteStore } from '@causeway/sqlite';
import { describeWithService } from '@causeway/testing';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { ConflictError } from '../platform/problem.ts';
import type { ServiceAnswer } from '../platform/service-client.ts';
import { createIdempotency, type Idempotency } from './idempotency.ts';

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithService('redis', 'gateway Idempotency-Keys', () => {
  const closing: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    connections.length = 0;
  });

  const openStore = async (filename = join(mkdtempSync(join(tmpdir(), 'idempotency-')), 'gateway.db')) => {
    const store = await createSqliteStore({ filename });
    closing.push(() => store.close());
    return { store, filename };
  };
  /** Each client's connection: commands sent before it is up fail (no offline queue). */
  const connections: Array<Promise<unknown>> = [];
  const redisCache = (prefix: string, url = redisUrl): Cache => {
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    const connecting = client.connect();
    connecting.catch(() => {}); // the unreachable server's: that test wants it refused
    connections.push(connecting);
    const cache = createRedisCache({ client, prefix, closeClient: true });
    closing.push(() => cache.close());
    return cache;
  };
  const open = (store: Store, cache: Cache, ttlMs = 60_000): Idempotency => {
    const idempotency = createIdempotency({ store, cache, ttlMs });
    closing.push(() => idempotency.close());
    return idempotency;
  };
  /** A service call that counts itself and answers 201 with the call's number. */
  const countingWork = () => {
    let calls = 0;
    const work = async (): Promise<ServiceAnswer> => {
      calls += 1;
      const call = calls;
      await pause(30);
      return { status: 201, body: { call }, headers: new Headers({ 'consistency-token': `t${call}` }) };
    };
    return { work, calls: () => calls };
  };

  it('two gateway processes sharing Redis run a key once; every request gets the first answer', async () => {
    const { store, filename } = await openStore();
    const second = await openStore(filename);
    const prefix = `idempotency-test:${process.pid}:${Date.now()}:`;
    const gateways = [open(store, redisCache(prefix)), open(second.store, redisCache(prefix))];
    await Promise.all(connections); // both clients connected, however long that takes
    const { work, calls } = countingWork();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => gateways[i % 2]!.run('key-1', { name: 'Ada' }, work)),
    );
    expect(calls()).toBe(1);
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 201, body: { call: 1 } });
      expect(answer.headers.get('consistency-token')).toBe('t1');
    }
    await expect(gateways[1]!.run('key-1', { name: 'Grace' }, work)).rejects.toBeInstanceOf(ConflictError);
    expect(calls()).toBe(1);
  });

  it('a key is used afresh once it expired, and pruning deletes only expired keys', async () => {
    const { store } = await openStore();
    const idempotency = open(store, createMemoryCache(), 1_000);
    const { work, calls } = countingWork();
    await idempotency.run('old', { n: 1 }, work);
    await pause(600);
    await idempotency.run('young', { n: 1 }, work);
    await idempotency.run('old', { n: 1 }, work);
    expect(calls()).toBe(2);
    await pause(500); // 'old' has expired, 'young' has not
    expect(await idempotency.prune()).toBe(1);
    expect(await store.documents.get(null, 'idempotency_keys', 'old')).toBeNull();
    expect(await store.documents.get(null, 'idempotency_keys', 'young')).not.toBeNull();
    // Expired: the same key with another body is new work, not a conflict.
    expect((await idempotency.run('old', { n: 2 }, work)).body).toEqual({ call: 3 });
  });

  it('keeps no 5xx answer, so a retry may succeed', async () => {
    const { store } = await openStore();
    const idempotency = open(store, createMemoryCache());
    let calls = 0;
    const work = async (): Promise<ServiceAnswer> => {
      calls += 1;
      return { status: calls === 1 ? 503 : 201, body: { calls }, headers: new Headers() };
    };
    expect((await idempotency.run('k', {}, work)).status).toBe(503);
    expect((await idempotency.run('k', {}, work)).status).toBe(201);
    expect((await idempotency.run('k', {}, work)).body).toEqual({ calls: 2 });
  });

  it('with Redis out of reach the store answers: a key still runs once, and the cache errors are heard', async () => {
    const { store } = await openStore();
    let cacheErrors = 0;
    const idempotency = createIdempotency({
      store,
      cache: redisCache('unreachable:', 'redis://127.0.0.1:1'),
      ttlMs: 60_000,
      onCacheError: () => {
        cacheErrors += 1;
      },
    });
    closing.push(() => idempotency.close());
    const { work, calls } = countingWork();
    const answers = await Promise.all(Array.from({ length: 5 }, () => idempotency.run('k', { a: 1 }, work)));
    expect(answers.map((answer) => answer.body)).toEqual(Array(5).fill({ call: 1 }));
    expect(calls()).toBe(1);
    expect(cacheErrors).toBeGreaterThan(0);
  });
});
