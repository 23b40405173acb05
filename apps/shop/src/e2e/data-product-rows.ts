/**
 * The Data rows of SHOP-API through the gateway (part of shop-rows.ts, so they run on both
 * backends): every domain's data product with its owner, ports, freshness against its SLA and
 * quality rules' results, and each contract served as the YAML beside the service's code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { servicesDirectory } from '../data-products/data-products.ts';
import { until } from './running-shop.ts';
import type { Answer } from './shop-api.ts';

type Api = (method: string, path: string) => Promise<Answer>;

export function dataProductRows(api: Api, gatewayApi: () => string): void {
  it('GET /data-products lists a data product per domain with its owner, ports, SLA and freshness', async () => {
    const listed = await api('GET', '/data-products');
    expect(listed.status).toBe(200);
    const domains = ['analytics', 'catalog', 'inventory', 'orders', 'payments', 'shipping', 'users'];
    expect(listed.body.products.map((product: { id: string }) => product.id)).toEqual(domains);
    expect(listed.body.products.find((product: { id: string }) => product.id === 'orders')).toMatchObject({
      domain: 'orders',
      owner: 'orders-team@shop.example',
      outputPorts: [{ name: 'orders.events', contractId: 'shop-orders-events' }],
      slaFreshnessMs: 10_000,
      status: 'active',
    });
    expect(listed.body.products.find((product: { id: string }) => product.id === 'analytics')).toMatchObject({
      outputPorts: [{ name: 'gold', contractId: 'shop-analytics-gold' }],
      slaFreshnessMs: 5_000,
    });
    // Measured by analytics once it has read the orders service: within the SLA when idle.
    const fresh = await until(
      () => api('GET', '/data-products'),
      (answer) =>
        answer.body.products.find((product: { id: string }) => product.id === 'orders')?.freshness?.met ===
        true,
      { timeoutMs: 20_000 },
    );
    expect(fresh.body.products.find((product: { id: string }) => product.id === 'orders').freshness).toEqual({
      lagMs: expect.any(Number),
      met: true,
    });
    // The contracts' quality rules, run by analytics after its model runs: every one holds.
    const checked = await until(
      () => api('GET', '/data-products'),
      // Converges: a check that raced a replay's swap of generations is run again.
      (answer) =>
        ['orders', 'analytics'].every(
          (id) =>
            answer.body.products.find((product: { id: string }) => product.id === id)?.quality?.status ===
            'pass',
        ),
      { timeoutMs: 30_000 },
    );
    for (const id of ['orders', 'analytics']) {
      const { quality } = checked.body.products.find((product: { id: string }) => product.id === id);
      expect(
        quality.checks.filter((check: { status: string }) => check.status !== 'pass'),
        id,
      ).toEqual([]);
      expect(quality, id).toMatchObject({ status: 'pass', failed: 0, checkedAt: expect.any(String) });
      expect(quality.passed, id).toBeGreaterThan(0);
    }
  });

  it('GET /data-products/:id/contract serves the ODCS YAML as written; an unknown id is a 404, a bad one a 400', async () => {
    const response = await fetch(`${gatewayApi()}/data-products/users/contract`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/yaml');
    const text = await response.text();
    expect(text).toBe(
      readFileSync(join(servicesDirectory, 'users', 'data-product', 'users-events.odcs.yaml'), 'utf8'),
    );
    expect(parse(text)).toMatchObject({
      kind: 'DataContract',
      apiVersion: 'v3.1.0',
      id: 'shop-users-events',
    });

    const unknown = await api('GET', '/data-products/warehouse/contract');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect((await api('GET', '/data-products/Not_An_Id/contract')).status).toBe(400);
  });
}
