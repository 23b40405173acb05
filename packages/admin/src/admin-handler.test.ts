/**
 * The admin API mounted in a user's own service (SQLite, the embedded transport, a saga, two
 * consumers, a projection) on a plain node:http server: what it shows, what it does through the
 * service's own consumers, orchestrator and runner, its problem+json refusals, and its tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SampleService, startSampleService } from './test-support/sample-service.ts';

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
    expect((await fetch(`${service.url}/dashboard.js`)).status).toBe(200);
    expect((await fetch(service.url.replace('/causeway', '/orders'))).status).toBe(404);
    const unknown = await call(service, 'GET', 'nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('overview, sagas');
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
