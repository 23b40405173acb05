/**
 * The gateway's admin actions refuse a caller without the admin token when dev mode is off, and
 * let one through with it (the services behind are not running here, so a let-through action
 * ends at "service unavailable", after the guard). Reads stay open.
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

  it('let anyone act in dev mode (the default of npm start), and keep reads open', async () => {
    const app = await gateway({});
    const redrive = await app.inject({ method: 'POST', url: '/api/dead-letters/payments:1/redrive' });
    expect(redrive.statusCode).toBe(503);
    const config = await app.inject({ method: 'GET', url: '/api/admin/config' });
    expect(config.json()).toMatchObject({ dev: true, tokenRequired: false });
    const guardedApp = await gateway({ SHOP_ADMIN_TOKEN: 's3cret' });
    const list = await guardedApp.inject({ method: 'GET', url: '/api/dead-letters' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [] });
  });
});
