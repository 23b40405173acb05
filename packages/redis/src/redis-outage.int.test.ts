/**
 * Redis stopped mid-run, for real: a Redis server of the test's own (so the machine's stays up) is
 * killed while readers and writers run over it. Reads fall back to the database (a SQLite store),
 * writes that committed succeed, the outage is reported once, and when Redis is back the reads are
 * cached again and the return is reported once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadThrough, type Store, withOutageReporting, writeThrough } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { describeWithService } from '@causeway/testing';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { createRedisCache } from './redis-cache.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve(server);
    });
    server.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
}

const stopped = (server: ChildProcess) =>
  new Promise<void>((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGKILL');
  });

/** Products in the service's database: the source of truth, versioned by their write count. */
async function productTable(store: Store) {
  await store.transaction((tx) =>
    tx.execute('CREATE TABLE products (id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL)'),
  );
  return {
    async load(id: string) {
      const [row] = await store.transaction((tx) =>
        tx.query<{ name: string; version: number }>('SELECT name, version FROM products WHERE id = $1', [id]),
      );
      return row ? { value: row.name, version: Number(row.version) } : { value: null, version: 0 };
    },
    async rename(id: string, name: string) {
      return store.transaction(async (tx) => {
        await tx.execute(
          `INSERT INTO products (id, name, version) VALUES ($1, $2, 1)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = products.version + 1`,
          [id, name],
        );
        const [row] = await tx.query<{ version: number }>('SELECT version FROM products WHERE id = $1', [id]);
        return { value: name, version: Number(row!.version) };
      });
    },
  };
}

describeWithService('redis', 'Redis stopped mid-run', () => {
  const servers: ChildProcess[] = [];
  afterAll(() => {
    for (const server of servers) server.kill('SIGKILL');
  });

  it('reads fall back to the database, committed writes succeed, and the outage and the return are each reported once', async () => {
    const port = await freePort();
    servers.push(await startRedis(port));
    const store = await createSqliteStore({
      filename: join(mkdtempSync(join(tmpdir(), 'causeway-redis-')), 'db'),
    });
    const products = await productTable(store);
    const client = new Redis({
      port,
      host: '127.0.0.1',
      // Fail a call at once while Redis is away (the source answers), and reconnect every 100 ms.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 100,
    });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    const reports: string[] = [];
    const cache = withOutageReporting(createRedisCache({ client, prefix: 'outage:' }), {
      onDown: () => reports.push('down'),
      onUp: () => reports.push('up'),
    });
    const reader = createReadThrough({ cache, ttlMs: 60_000, load: products.load });
    const keys = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const key of keys) await products.rename(key, `${key} v1`);

    // Readers run throughout: each answer must be the database's current name.
    let running = true;
    const wrong: string[] = [];
    let reads = 0;
    const readers = Array.from({ length: 4 }, async (_, slot) => {
      for (let i = slot; running; i++) {
        const key = keys[i % keys.length]!;
        const before = (await products.load(key)).value;
        const value = await reader.get(key);
        const after = (await products.load(key)).value;
        if (value !== before && value !== after) wrong.push(`${key}: ${value} (database: ${after})`);
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });

    await expect.poll(() => reader.stats.hits, { timeout: 5_000 }).toBeGreaterThan(50);
    await stopped(servers.pop()!);
    const readsAtStop = reads;
    // Writes while Redis is down: committed, so they succeed.
    for (const key of keys.slice(0, 5)) {
      expect(await writeThrough(cache, key, () => products.rename(key, `${key} v2`), { ttlMs: 60_000 })).toBe(
        `${key} v2`,
      );
    }
    await expect.poll(() => reads, { timeout: 5_000 }).toBeGreaterThan(readsAtStop + 200);
    expect(reports).toEqual(['down']);
    expect(reader.stats.cacheErrors).toBeGreaterThan(0);

    // Redis is back (empty, as after a restart without persistence): reads are cached again.
    servers.push(await startRedis(port));
    const hitsBack = reader.stats.hits;
    await expect.poll(() => reader.stats.hits, { timeout: 10_000 }).toBeGreaterThan(hitsBack + 50);
    running = false;
    await Promise.all(readers);
    expect(reports).toEqual(['down', 'up']);
    expect(wrong).toEqual([]);
    expect(await reader.get('p0')).toBe('p0 v2');
    client.disconnect();
    await store.close();
  }, 60_000);
});
