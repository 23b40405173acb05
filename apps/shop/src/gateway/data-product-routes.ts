/**
 * The Data rows of SHOP-API: `GET /data-products` lists each domain's data product with its
 * owner, output ports and freshness SLA, and how fresh it is now as the analytics service sees it
 * (a source's lag into bronze, gold's lag for analytics' own product) with its contracts' quality
 * rules as analytics last ran them; `GET /data-products/:id/contract` serves its contract's YAML
 * as written beside the service's code.
 */
import { NotFoundError } from '@causeway/core';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DataProduct } from '../data-products/data-products.ts';
import { parseInput } from '../platform/http-input.ts';
import type { ServiceClient } from '../platform/service-client.ts';

const productParams = z.object({ id: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a data product id') });

export function registerDataProductRoutes(
  api: FastifyInstance,
  { call, products }: { call: ServiceClient; products: readonly DataProduct[] },
): void {
  api.get('/data-products', async () => {
    const [lags, quality] = await Promise.all([sourceLags(call), latestQuality(call)]);
    return {
      products: products.map((product) => {
        const lagMs = lags?.get(product.descriptor.domain);
        return {
          id: product.descriptor.id,
          domain: product.descriptor.domain,
          owner: product.owner,
          outputPorts: product.descriptor.outputPorts.map((port) => ({
            name: port.name,
            contractId: port.contractId,
          })),
          slaFreshnessMs: product.slaFreshnessMs,
          status: product.descriptor.status,
          // Unknown while analytics cannot say (down, or the source not read yet).
          freshness:
            lagMs === undefined
              ? null
              : { lagMs, met: product.slaFreshnessMs === null || lagMs <= product.slaFreshnessMs },
          // The contract's quality rules as analytics last ran them; null before (or when it cannot say).
          quality: quality?.get(product.descriptor.id) ?? null,
        };
      }),
    };
  });

  api.get('/data-products/:id/contract', async (request, reply) => {
    const { id } = parseInput(productParams, request.params, 'path');
    const product = products.find((each) => each.descriptor.id === id);
    if (product === undefined) throw new NotFoundError('Data product', id);
    const { text } = product.contracts.get(product.descriptor.outputPorts[0]!.contractId)!;
    return reply.type('application/yaml').send(text);
  });
}

interface QualityAnswer {
  product: string;
  status: 'pass' | 'warn' | 'fail';
  checkedAt: string;
  checks: Array<{ status: string }>;
}

/** Each product's quality as analytics last checked it, keyed by product id; null when analytics does not answer. */
async function latestQuality(call: ServiceClient) {
  const answer = await call('analytics', 'GET', '/analytics/quality', { timeoutMs: 1_500 }).catch(() => null);
  if (answer?.status !== 200) return null;
  const { products } = answer.body as { products: QualityAnswer[] };
  return new Map(
    products.map((product) => [
      product.product,
      {
        status: product.status,
        checkedAt: product.checkedAt,
        passed: product.checks.filter((check) => check.status === 'pass').length,
        failed: product.checks.filter((check) => check.status !== 'pass').length,
        checks: product.checks,
      },
    ]),
  );
}

/**
 * Each domain's lag as analytics measures it: a source service's into bronze, analytics' own as
 * gold's; null when analytics does not answer.
 */
async function sourceLags(call: ServiceClient): Promise<Map<string, number> | null> {
  const answer = await call('analytics', 'GET', '/analytics/freshness', { timeoutMs: 1_500 }).catch(
    () => null,
  );
  if (answer?.status !== 200) return null;
  const { sources, layers } = answer.body as {
    sources: Array<{ service: string; lagMs: number }>;
    layers: { gold: { lagMs: number } };
  };
  return new Map([
    ...sources.map((source) => [source.service, source.lagMs] as const),
    ['analytics', layers.gold.lagMs] as const,
  ]);
}
