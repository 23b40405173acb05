/**
 * The admin API mounted in a user's own service (SQLite, the embedded transport, a saga, two
 * consumers, a projection) on a plain node:http server: what it shows, what it does through the
 * service's own consumers, orchestrator and runner, its problem+json refusals, and its tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryCache, createReadThrough, createWriteBack } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHandler } from './admin-handler.ts';
import type { ReportedCache } from './cache-stats.ts';
import { type SampleService, startSampleService } from './test-support/sample-service.ts';
import type { TraceSource, TraceSpan } from './trace-view.ts';

async function call(
  service: SampleService,
  method: string,
  path: string,
  token?: string,
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, checked field by field by the assertions
): Promise<{ status: number; type: string; body: any }> {
  const response = await fetch(`${service.url}/api/${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : null,
  };
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let tries = 0; tries < 500; tries++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('timed out');
}

describe('the admin API in a service of its own, open', () => {
  let service: SampleService;
  beforeAll(async () => {
    service = await startSampleService('open');
  });
  afterAll(async () => service?.stop());

  it('shows a compensated saga where it failed, its steps, and its flow', async () => {
    await service.placeDeclinedOrder('order-1');
    const { body: list } = await call(service, 'GET', 'sagas');
    expect(list.counts.compensated).toBe(1);
    expect(list.items).toEqual([
      expect.objectContaining({ sagaId: 'order-1', status: 'compensated', step: 'failed at charge' }),
    ]);
    const { body: saga } = await call(service, 'GET', 'sagas/order-1');
    expect(saga.steps.map((each: { name: string; status: string }) => [each.name, each.status])).toEqual([
      ['reserveStock', 'compensated'],
      ['charge', 'failed'],
    ]);
    // The diagram: the compensation under the step it undoes, named as the service names it.
    const box = (each: { name: string; status: string }) => `${each.name} ${each.status}`;
    expect(saga.diagram.forward.map(box)).toEqual(['reserveStock succeeded', 'charge failed']);
    expect(saga.diagram.compensations.map(box)).toEqual(['releaseStock compensated']);
    expect(saga.diagram.failedStep).toBe('charge');
    const { body: flow } = await call(service, 'GET', 'flows/order-1');
    expect(
      flow.entries.map((entry: { kind: string; step?: string }) => `${entry.kind} ${entry.step}`),
    ).toEqual(expect.arrayContaining(['step reserveStock', 'step charge', 'compensation reserveStock']));
    const filtered = await call(service, 'GET', 'sagas?status=stuck');
    expect(filtered.status).toBe(400);
    expect(filtered.type).toContain('application/problem+json');
  });

  it('redrives a dead letter through the consumer that owns it, and refuses to discard it afterwards', async () => {
    service.breakStock(true);
    await service.countStock('tea');
    const dead = await eventually(
      async () => (await call(service, 'GET', 'dead-letters?status=dead')).body.items,
      (items: Array<{ sequence: number }>) => items.length === 1,
    );
    expect(dead[0]).toMatchObject({ consumer: 'stock-counts', reason: expect.stringContaining('locked') });
    expect((await call(service, 'GET', 'overview')).body.deadLetters).toEqual({ dead: 1 });

    service.breakStock(false);
    const redrive = await call(service, 'POST', `dead-letters/${dead[0]!.sequence}/redrive`);
    expect(redrive.status).toBe(200);
    expect(redrive.body).toEqual({ redriven: 1 });
    const after = (await call(service, 'GET', 'dead-letters')).body.items;
    expect(after[0]).toMatchObject({ sequence: dead[0]!.sequence, status: 'redriven' });
    const discard = await call(service, 'DELETE', `dead-letters/${dead[0]!.sequence}`);
    expect(discard.status).toBe(409);
    expect(discard.body.detail).toContain('only a dead or parked one can be discarded');
    expect((await call(service, 'POST', 'dead-letters/999/redrive')).status).toBe(404);
  });

  it('pauses and resumes a projection through its runner, and shows recent events', async () => {
    const paused = await call(service, 'POST', 'projections/stock_levels/pause');
    expect(paused.body).toMatchObject({ name: 'stock_levels', state: 'paused' });
    expect((await call(service, 'POST', 'projections/stock_levels/resume')).body.state).toBe('live');
    expect((await call(service, 'POST', 'projections/nothing/pause')).status).toBe(404);
    const { body: events } = await call(service, 'GET', 'events');
    expect(events.items.map((event: { type: string }) => event.type)).toContain('stock.Counted');
  });

  it('serves its page where it is mounted, and leaves every other path to the service', async () => {
    const page = await fetch(`${service.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('src="/causeway/dashboard.js"');
    // The page and each view module a page of the user's own may import.
    for (const file of ['dashboard.js', 'dom.js', 'views.css', 'saga-diagram.js', 'dead-letter-table.js']) {
      expect((await fetch(`${service.url}/${file}`)).status, file).toBe(200);
    }
    expect((await fetch(`${service.url}/package.json`)).status).toBe(404);
    expect((await fetch(service.url.replace('/causeway', '/orders'))).status).toBe(404);
    const unknown = await call(service, 'GET', 'nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('overview, sagas');
  });
});

describe("the admin API's traces", () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const span = (spanId: string, parentSpanId: string | null, startMs: number): TraceSpan => ({
    traceId,
    spanId,
    parentSpanId,
    name: parentSpanId ? 'process stock.events' : 'causeway.append',
    kind: parentSpanId ? 'consumer' : 'internal',
    service: 'shop',
    instance: 'shop-1',
    startTime: new Date(startMs).toISOString(),
    startMs,
    durationMs: 2.5,
    status: 'unset',
    statusMessage: null,
    attributes: { 'causeway.stream.id': 'stock-tea' },
  });
  // Given out of order: the view answers earliest first.
  const spans = [
    span('00f067aa0ba902b8', 'b7ad6b7169203331', 1_000.5),
    span('b7ad6b7169203331', null, 1_000),
  ];
  const asked: string[] = [];
  const traces: TraceSource = {
    spansOf(id) {
      asked.push(id);
      return id === traceId ? spans : [];
    },
  };
  let service: SampleService;
  let guarded: SampleService;
  beforeAll(async () => {
    service = await startSampleService('open', { traces });
    guarded = await startSampleService({ readToken: 'look', adminToken: 'act' });
  });
  afterAll(async () => {
    await service?.stop();
    await guarded?.stop();
  });

  it("names each traced event's trace in its flow, and answers that trace's spans from the given source", async () => {
    await service.countStock('tea', { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    await service.countStock('mugs', { traceparent: 'not a traceparent' });
    const { body: flow } = await call(service, 'GET', 'flows/count-tea');
    expect(flow.entries).toEqual([
      expect.objectContaining({ kind: 'event', type: 'stock.Counted', traceId }),
    ]);
    const { body: untraced } = await call(service, 'GET', 'flows/count-mugs');
    expect(untraced.entries[0]).not.toHaveProperty('traceId');

    const found = await call(service, 'GET', `traces/${traceId}`);
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ traceId, recorded: true, spans: [spans[1], spans[0]] });
    const other = '0af7651916cd43dd8448eb211c80319c';
    expect((await call(service, 'GET', `traces/${other}`)).body).toEqual({
      traceId: other,
      recorded: true,
      spans: [],
    });
    expect(asked).toEqual([traceId, other]);
  });

  it('refuses a trace id that is not 32 lowercase hex digits, with problem+json, and never asks the source', async () => {
    asked.length = 0;
    for (const bad of [
      '4BF92F3577B34DA6A3CE929D0E0E4736',
      '4bf92f3577b34da6',
      'order-7',
      `${traceId}0`,
      '%E0%A4%A',
    ]) {
      const refused = await call(service, 'GET', `traces/${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.type).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ title: 'Invalid request', detail: expect.stringContaining(bad) });
    }
    expect((await call(service, 'GET', 'traces')).status).toBe(404);
    expect(asked).toEqual([]);
  });

  it('reads a trace with either token, and says so when the service records no spans', async () => {
    expect((await call(guarded, 'GET', `traces/${traceId}`)).status).toBe(401);
    expect((await call(guarded, 'GET', `traces/${traceId}`, 'guess')).status).toBe(403);
    for (const token of ['look', 'act']) {
      const answer = await call(guarded, 'GET', `traces/${traceId}`, token);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ traceId, recorded: false, spans: [] });
    }
  });
});

describe('the admin API with tokens', () => {
  let service: SampleService;
  beforeAll(async () => {
    service = await startSampleService({ readToken: 'look', adminToken: 'act' });
  });
  afterAll(async () => service?.stop());

  it('reads with either token, acts only with the admin token', async () => {
    expect((await call(service, 'GET', 'overview')).status).toBe(401);
    expect((await call(service, 'GET', 'overview', 'guess')).status).toBe(403);
    expect((await call(service, 'GET', 'overview', 'look')).status).toBe(200);
    expect((await call(service, 'GET', 'overview', 'act')).status).toBe(200);
    const reader = await call(service, 'POST', 'projections/stock_levels/pause', 'look');
    expect(reader.status).toBe(403);
    expect(reader.body.detail).toBe('Actions need the admin token');
    expect((await call(service, 'POST', 'projections/stock_levels/pause', 'act')).status).toBe(200);
    // The page itself holds no data: it loads, then asks for a token.
    expect((await fetch(`${service.url}/`)).status).toBe(200);
  });
});

describe("the admin API's caches", () => {
  it("shows each cache's counters as they stand at the request, with the fresh-hit ratio", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'causeway-admin-caches-'));
    const store = await createSqliteStore({ filename: join(directory, 'shop.db') });
    // Registered after the handler is made, as a service does during its setup: read at each request.
    const caches: Record<string, ReportedCache> = {};
    const admin = createAdminHandler({ service: 'shop', store, caches, access: 'open' });
    const server = createServer(async (request, response) => {
      if (!(await admin(request, response))) response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/causeway/api/caches`;
    const products = createReadThrough<string>({
      cache: createMemoryCache(),
      load: async (key) => ({ value: `product ${key}`, version: 1 }),
      ttlMs: 60_000,
      freshMs: 20,
      jitter: 0,
    });
    const counts = createWriteBack<number>({ store, name: 'counts', flush: async () => {} });
    try {
      expect(await (await fetch(url)).json()).toEqual({ items: [] });
      caches.products = products;
      caches.prices = createReadThrough<string>({
        cache: createMemoryCache(),
        load: async () => ({ value: null, version: 0 }),
        ttlMs: 60_000,
      });
      caches.counts = counts;

      expect((await products.read('tea')).from).toBe('miss');
      expect((await products.read('tea')).from).toBe('hit');
      expect(await products.get('tea')).toBe('product tea');
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect((await products.read('tea')).from).toBe('stale');
      expect((await products.read('coffee')).from).toBe('miss');
      // The stale read reloads behind it: wait for that load to be counted.
      await expect.poll(() => products.stats.loads).toBe(3);
      await counts.write('tea', 1);
      await counts.write('tea', 2);
      await counts.flush();

      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        items: [
          {
            name: 'products',
            kind: 'read-through',
            hits: 2,
            stale: 1,
            misses: 2,
            loads: 3,
            cacheErrors: 0,
            hitRatio: 0.4,
          },
          {
            name: 'prices',
            kind: 'read-through',
            hits: 0,
            stale: 0,
            misses: 0,
            loads: 0,
            cacheErrors: 0,
            hitRatio: null,
          },
          {
            name: 'counts',
            kind: 'write-back',
            writes: 2,
            journalCommits: 2,
            flushes: 1,
            flushedKeys: 1,
            hitRatio: null,
          },
        ],
      });
      const unknown = await fetch(url.replace('/caches', '/cache'));
      expect((await unknown.json()).detail).toContain('projections, caches');
    } finally {
      await counts.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
