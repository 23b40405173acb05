/**
 * Who may look, on a shop out of dev mode (SHOP_ADMIN_TOKEN and SHOP_READ_TOKEN set): admin reads
 * (the gateway's and each service's, events with their data included) and `/metrics` answer only
 * a token, the read token reads and cannot act, each service serves @causeway/admin's page behind
 * the same tokens, and the `causeway` command does both through it: projection status, pause,
 * resume and a rebuild followed to its end, a dead-letter redrive refused with the service's reason. A shop that would listen beyond
 * loopback in dev mode refuses to start. On embedded defaults.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningShop, startShop } from './running-shop.ts';
import { shopApi } from './shop-api.ts';

const cliBin = fileURLToPath(new URL('../../../../packages/cli/dist/main.js', import.meta.url));
const supervisorScript = fileURLToPath(new URL('../../dist/supervisor/main.js', import.meta.url));
const adminToken = 'act-8c1d';
const readToken = 'look-41f0';

let shop: RunningShop;
const api = shopApi(() => shop.api);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Runs `causeway ...args`; resolves with its exit code and output whatever the code. */
function causeway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliBin, ...args],
      { env: { ...process.env, CAUSEWAY_URL: '', CAUSEWAY_TOKEN: '' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function serviceUrl(service: string): Promise<string> {
  const health = await api('GET', '/health');
  return health.body.services[service].url;
}

beforeAll(async () => {
  shop = await startShop({ SHOP_ADMIN_TOKEN: adminToken, SHOP_READ_TOKEN: readToken });
}, 120_000);
afterAll(async () => {
  await shop?.stop();
});

describe('a shop out of dev mode', () => {
  it("answers admin reads and metrics only with a token, on the gateway and on each service's port", async () => {
    // The example: any local process could read every event with its data.
    const orders = await serviceUrl('orders');
    for (const url of [
      `${orders}/admin/events?data=1`,
      `${orders}/admin/dead-letters`,
      `${orders}/metrics`,
    ]) {
      const open = await fetch(url);
      expect(open.status, url).toBe(401);
      expect(open.headers.get('content-type')).toContain('application/problem+json');
      expect((await fetch(url, { headers: bearer('guess') })).status, url).toBe(403);
      expect((await fetch(url, { headers: bearer(readToken) })).status, url).toBe(200);
      expect((await fetch(url, { headers: bearer(adminToken) })).status, url).toBe(200);
    }
    expect((await fetch(`${orders}/admin/health`)).status).toBe(200);
    for (const path of ['/admin/sagas', '/admin/overview', '/dead-letters']) {
      expect((await api('GET', path)).status, path).toBe(401);
      expect((await api('GET', path, undefined, bearer(readToken))).status, path).toBe(200);
    }
    // The gateway reads the services with its own token: its answers are whole.
    const sagas = await api('GET', '/admin/sagas', undefined, bearer(readToken));
    expect(sagas.body).toHaveProperty('items');
    const config = await api('GET', '/admin/config');
    expect(config.body).toMatchObject({ dev: false, tokenRequired: true, readTokenConfigured: true });
    // The public API is not admin: it needs no token.
    expect((await api('GET', '/products')).status).toBe(200);
  });

  it("serves @causeway/admin's page and API on each service, behind the same tokens", async () => {
    const orders = await serviceUrl('orders');
    const page = await fetch(`${orders}/causeway/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${orders}/causeway/api/sagas`)).status).toBe(401);
    const sagas = await fetch(`${orders}/causeway/api/sagas`, { headers: bearer(readToken) });
    expect(sagas.status).toBe(200);
    expect(await sagas.json()).toHaveProperty('counts');
    const acting = await fetch(`${orders}/causeway/api/sagas/none/redrive`, {
      method: 'POST',
      headers: bearer(readToken),
    });
    expect(acting.status).toBe(403);
  });

  it('lets the causeway command look with the read token and act only with the admin token', async () => {
    const query = await serviceUrl('query');
    const anonymous = await causeway('projections', 'status', '--url', query);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('pass --token or CAUSEWAY_TOKEN');

    const status = await causeway('projections', 'status', '--url', query, '--token', readToken, '--json');
    expect(status.code, status.stderr).toBe(0);
    const [projection] = JSON.parse(status.stdout);
    expect(projection).toMatchObject({ name: expect.any(String), state: 'live' });
    const name: string = projection.name;

    const readerActs = await causeway('projections', 'pause', name, '--url', query, '--token', readToken);
    expect(readerActs.code).toBe(1);
    expect(readerActs.stderr).toContain('Actions need the admin token');

    const paused = await causeway(
      'projections',
      'pause',
      name,
      '--url',
      query,
      '--token',
      adminToken,
      '--json',
    );
    expect(paused.code, paused.stderr).toBe(0);
    expect(JSON.parse(paused.stdout)).toEqual({ name, state: 'paused' });
    const resumed = await causeway(
      'projections',
      'resume',
      name,
      '--url',
      query,
      '--token',
      adminToken,
      '--json',
    );
    expect(JSON.parse(resumed.stdout)).toEqual({ name, state: 'live' });

    // A few events to replay, then a rebuild followed to its end.
    const user = await api('POST', '/users', { name: 'Ada Admin', email: 'ada@example.com' });
    expect(user.status).toBe(201);
    const rebuilt = await causeway(
      'projections',
      'rebuild',
      name,
      '--url',
      query,
      '--token',
      adminToken,
      '--json',
    );
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const rebuild = JSON.parse(rebuilt.stdout);
    expect(rebuild).toMatchObject({ status: 'done' });
    expect(rebuild.processed).toBe(rebuild.total);

    const payments = await serviceUrl('payments');
    const redrive = await causeway('dlq', 'redrive', '999999', '--url', payments, '--token', adminToken);
    expect(redrive.code).toBe(1);
    expect(redrive.stderr).toMatch(/dead-letters\/999999\/redrive: No dead letter 999999/);
  }, 60_000);
});

it('refuses to start in dev mode listening beyond loopback, and says what to set', async () => {
  const child = spawn(process.execPath, [supervisorScript], {
    env: { ...process.env, HOST: '0.0.0.0', SHOP_ADMIN_TOKEN: '', SHOP_READ_TOKEN: '', SHOP_DEV: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).not.toBe(0);
  expect(output).toContain('HOST (--host) = "0.0.0.0" in dev mode');
  expect(output).toContain('set SHOP_ADMIN_TOKEN');
}, 30_000);
