/**
 * The gateway's admin actions refuse a caller without the admin token when dev mode is off, and
 * let one through with it (the services behind are not running here, so a let-through action
 * ends at "service unavailable", after the guard). Outside dev mode its admin reads take the read
 * or the admin token, and nothing else; in dev mode anyone may read and act.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createServiceClient } from '../platform/service-client.ts';
import { createHttpApp } from '../platform/service-runtime.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { createDashboardFeed } from './dashboard-feed.ts';

// Ports where nothing listens: a call that passes the guard finds its service down (503).
const closedPort = '61000';

async function gateway(env: Record<string, string>) {
  const config = loadConfig([], { PORT: closedPort, DATA_DIR: '/nonexistent/causeway-test', ...env });
  const call = createServiceClient(config);
  const app = createHttpApp();
  await app.register(
    async (api) =>
      registerAdminRoutes(api, {
        config,
        call,
        feed: createDashboardFeed({ call, dataDir: config.dataDir }),
      }),
    { prefix: '/api' },
  );
  return app;
}

const actions = [
  ['POST', '/api/dead-letters/payments:1/redrive', undefined],
  ['DELETE', '/api/dead-letters/payments:1', undefined],
  ['POST', '/api/admin/projections/rebuild', undefined],
  ['POST', '/api/admin/projections/pause', undefined],
  ['POST', '/api/admin/projections/resume', undefined],
  ['POST', '/api/admin/sagas/order-1/redrive', undefined],
  ['POST', '/api/admin/dev/poison', { service: 'payments' }],
] as const;

describe('gateway admin actions', () => {
  it('refuse a caller without a token (401) or with a wrong one (403) when dev mode is off', async () => {
    const app = await gateway({ SHOP_ADMIN_TOKEN: 's3cret' });
    for (const [method, url, payload] of actions) {
      const missing = await app.inject({ method, url, ...(payload ? { payload } : {}) });
      expect(missing.statusCode, `${method} ${url}`).toBe(401);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      expect(missing.json()).toMatchObject({ status: 401, title: 'Admin token required' });
      const wrong = await app.inject({
        method,
        url,
        headers: { authorization: 'Bearer nope' },
        ...(payload ? { payload } : {}),
      });
      expect(wrong.statusCode, `${method} ${url}`).toBe(403);
    }
  });

  it('let the right token through, to the service behind', async () => {
    const app = await gateway({ SHOP_ADMIN_TOKEN: 's3cret' });
    const redrive = await app.inject({
      method: 'POST',
      url: '/api/dead-letters/payments:1/redrive',
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(redrive.statusCode).toBe(503);
    expect(redrive.json().detail).toContain('payments service did not answer');
    // The poison helper exists only in dev mode, token or not.
    const poison = await app.inject({
      method: 'POST',
      url: '/api/admin/dev/poison',
      headers: { authorization: 'Bearer s3cret' },
      payload: { service: 'payments' },
    });
    expect(poison.statusCode).toBe(404);
  });

  it('refuse every action when dev mode is off and no token is set', async () => {
    const app = await gateway({ SHOP_DEV: 'false' });
    const answer = await app.inject({ method: 'POST', url: '/api/admin/projections/rebuild' });
    expect(answer.statusCode).toBe(403);
    expect(answer.json().detail).toContain('set one to allow admin actions');
  });

  it('let anyone act and read in dev mode (the default of npm start)', async () => {
    const app = await gateway({});
    const redrive = await app.inject({ method: 'POST', url: '/api/dead-letters/payments:1/redrive' });
    expect(redrive.statusCode).toBe(503);
    const config = await app.inject({ method: 'GET', url: '/api/admin/config' });
    expect(config.json()).toMatchObject({ dev: true, tokenRequired: false });
    const list = await app.inject({ method: 'GET', url: '/api/dead-letters' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [] });
  });
});

describe('gateway admin reads outside dev mode', () => {
  const reads = [
    '/api/dead-letters',
    '/api/admin/sagas',
    '/api/admin/overview',
    '/api/admin/cpu',
    '/api/admin/stream',
  ];

  it('refuse a caller without a token (401) or with another (403), and say which tokens serve', async () => {
    const app = await gateway({ SHOP_ADMIN_TOKEN: 's3cret', SHOP_READ_TOKEN: 'look' });
    for (const url of reads) {
      const missing = await app.inject({ method: 'GET', url });
      expect(missing.statusCode, url).toBe(401);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      expect(missing.json().detail).toContain('SHOP_READ_TOKEN or SHOP_ADMIN_TOKEN');
      const wrong = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode, url).toBe(403);
      const queried = await app.inject({ method: 'GET', url: `${url}?access_token=nope` });
      expect(queried.statusCode, url).toBe(403);
    }
    // What the dashboard asks first stays open: whether it needs a token at all.
    const config = await app.inject({ method: 'GET', url: '/api/admin/config' });
    expect(config.statusCode).toBe(200);
    expect(config.json()).toMatchObject({ dev: false, tokenRequired: true, readTokenConfigured: true });
  });

  it('let the read token and the admin token read, and the read token not act', async () => {
    const app = await gateway({ SHOP_ADMIN_TOKEN: 's3cret', SHOP_READ_TOKEN: 'look' });
    for (const token of ['look', 's3cret']) {
      const list = await app.inject({
        method: 'GET',
        url: '/api/dead-letters',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(list.statusCode, token).toBe(200);
      expect(list.json()).toEqual({ items: [] });
    }
    // The browser's EventSource passes it in the query; the guard lets it through (then 503 for
    // the services here are down, or the stream itself: not 401/403).
    const sagas = await app.inject({ method: 'GET', url: '/api/admin/sagas?access_token=look' });
    expect([401, 403]).not.toContain(sagas.statusCode);
    const act = await app.inject({
      method: 'POST',
      url: '/api/dead-letters/payments:1/redrive',
      headers: { authorization: 'Bearer look' },
    });
    expect(act.statusCode).toBe(403);
    expect(act.json().title).toBe('Admin token refused');
  });

  it('refuse every read when dev mode is off and no token is set', async () => {
    const app = await gateway({ SHOP_DEV: 'false' });
    const answer = await app.inject({ method: 'GET', url: '/api/dead-letters' });
    expect(answer.statusCode).toBe(403);
    expect(answer.json().detail).toContain('set one to allow admin reads');
  });
});
