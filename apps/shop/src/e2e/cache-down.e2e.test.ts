/**
 * The gateway's product cache in a Redis of the test's own, killed mid-run: a product update that
 * committed answers 200 although the cache cannot be told, reads go on from the catalog, one alert
 * says so; when Redis is back, reads are cached again and one line says that.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../supervisor/test-support/helpers.ts';
import { type RunningShop, startShop, until } from './running-shop.ts';

/** A throwaway redis-server: no persistence, no shared state with the machine's Redis. */
async function startPrivateRedis(port?: number): Promise<{ url: string; process: ChildProcess }> {
  port ??= await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

describe('product cache in Redis, and Redis dies', () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let shop: RunningShop;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    shop = await startShop({ SHOP_CACHE: 'redis', REDIS_URL: redis.url });
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
    redis?.process.kill('SIGKILL');
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${shop.api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, cache: response.headers.get('x-cache'), body: await response.json() };
  };

  it('answers a committed product update with 200 while Redis is down, and reads go on from the catalog', async () => {
    const created = await api('POST', '/products', {
      sku: `SKU-${Date.now()}`,
      name: 'Green tea',
      priceCents: 450,
    });
    expect(created.status).toBe(201);
    const { id } = created.body as { id: string };
    await api('GET', `/products/${id}`);
    expect((await api('GET', `/products/${id}`)).cache).toBe('hit');

    redis.process.kill('SIGKILL');
    await new Promise((resolve) => redis.process.once('exit', resolve));

    const patched = await api('PATCH', `/products/${id}`, { name: 'Sencha' });
    expect(patched.status).toBe(200);
    // The catalog has the new name; the gateway, without its cache, reads it from there.
    const read = await until(
      () => api('GET', `/products/${id}`),
      (answer) => answer.status === 200 && (answer.body as { name: string }).name === 'Sencha',
      { timeoutMs: 15_000 },
    );
    expect(read).toMatchObject({ status: 200, body: { id, name: 'Sencha', priceCents: 450 } });
    for (let i = 0; i < 20; i++) expect((await api('GET', `/products/${id}`)).status).toBe(200);
    const gatewayLog = () => readFileSync(join(shop.dataDir, 'logs', 'gateway.log'), 'utf8');
    const alerts = () => gatewayLog().match(/ALERT gateway cache/g) ?? [];
    expect(alerts()).toHaveLength(1);

    // Redis returns (empty, on the same port): reads are cached again, and the return is logged once.
    redis = await startPrivateRedis(Number(new URL(redis.url).port));
    await until(
      () => api('GET', `/products/${id}`),
      (answer) => answer.cache === 'hit',
      { timeoutMs: 15_000 },
    );
    expect((await api('GET', `/products/${id}`)).body).toMatchObject({ name: 'Sencha' });
    expect(gatewayLog().match(/gateway cache \(Redis\) is back/g)).toHaveLength(1);
    expect(alerts()).toHaveLength(1);
  }, 60_000);
});
