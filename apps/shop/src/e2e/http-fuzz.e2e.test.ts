/**
 * The gateway as an attacker sees it: random bodies, path ids, query strings, headers and content
 * types on every route. Whatever comes in, the answer is below 500 and a problem+json when
 * refused, no service dies, and a refused request writes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningShop, startShop } from './running-shop.ts';

const requestsPerRun = 1_000;
const adminToken = 'fuzz-admin-token';
const readToken = 'fuzz-read-token';

/** Ids no entity can have: path tricks, quotes, emoji, JS leftovers, huge, empty-ish. */
const hostileId = fc.oneof(
  fc.constantFrom(
    '..',
    '../etc/passwd',
    '..%2F..%2Fetc',
    '[object Object]',
    'undefined',
    'null',
    '"quoted"',
    "' OR 1=1 --",
    '🙂',
    '%00',
    ' ',
    '-leading-symbol',
    '$all',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 101, maxLength: 3_000 }),
);
/** Ids that look right and name nothing: they must answer 404, never act. */
const unknownId = fc.uuid();
const pathId = fc.oneof(hostileId, unknownId);

/** Any JSON value, and wrong types on the right keys (each built to fail at least one field). */
const invalidNumber = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(-1, 0, null, true, [], {}, 1e300, Number.MAX_SAFE_INTEGER + 2),
);
const anyValue = fc.oneof(fc.anything(), fc.string({ maxLength: 20 }), fc.integer());
const body = fc.oneof(
  fc.jsonValue(),
  fc.record({ name: anyValue, email: fc.oneof(fc.string({ maxLength: 30 }), invalidNumber) }),
  fc.record({ sku: anyValue, name: anyValue, priceCents: invalidNumber, currency: anyValue }),
  fc.record({ name: anyValue, priceCents: invalidNumber }),
  fc.record({ quantity: invalidNumber }),
  fc.record({
    userId: pathId,
    items: fc.oneof(
      fc.constant([]),
      fc.array(fc.record({ productId: pathId, quantity: anyValue }), { maxLength: 3 }),
      anyValue,
    ),
    payment: fc.oneof(fc.record({ token: anyValue }), anyValue),
    shippingAddress: anyValue,
  }),
);
/** What travels on the wire: JSON, or text that is not JSON, huge, or empty. */
const rawBody = fc.oneof(
  body.map((value) => JSON.stringify(value) ?? 'null'),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '{"a":', '[', 'null', '', '\u0000', '{"__proto__":{"polluted":1}}'),
  fc.constant('x'.repeat(1_100_000)),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  undefined,
);
const queryValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '1e9', 'NaN', '', '[]'));
const query = fc
  .dictionary(fc.constantFrom('search', 'limit', 'from', 'to', 'status', 'after', 'q', 'x'), queryValue, {
    maxKeys: 3,
  })
  .map((entries) => new URLSearchParams(entries).toString());
const headers = fc.record(
  {
    'consistency-token': fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('999999999', '-1', 'v1.x')),
    'idempotency-key': fc.string({ maxLength: 300 }),
    authorization: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('Bearer wrong')),
  },
  { requiredKeys: [] },
);

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** Every route of the gateway but the event stream (it never ends), with its path built from ids. */
const routes: Array<{ method: Method; path: (id: string, other: string) => string }> = [
  { method: 'POST', path: () => '/users' },
  { method: 'GET', path: (id) => `/users/${id}` },
  { method: 'DELETE', path: (id) => `/users/${id}` },
  { method: 'GET', path: (id) => `/users/${id}/orders` },
  { method: 'POST', path: () => '/products' },
  { method: 'PATCH', path: (id) => `/products/${id}` },
  { method: 'GET', path: (id) => `/products/${id}` },
  { method: 'GET', path: () => '/products' },
  { method: 'POST', path: (id) => `/inventory/${id}/restock` },
  { method: 'GET', path: (id) => `/inventory/${id}` },
  { method: 'POST', path: () => '/orders' },
  { method: 'GET', path: (id) => `/orders/${id}` },
  { method: 'GET', path: (id) => `/sagas/${id}` },
  { method: 'GET', path: () => '/reports/daily-sales' },
  { method: 'GET', path: () => '/health' },
  { method: 'GET', path: () => '/dead-letters' },
  { method: 'POST', path: (id) => `/dead-letters/${id}/redrive` },
  { method: 'DELETE', path: (id) => `/dead-letters/${id}` },
  { method: 'GET', path: () => '/admin/config' },
  { method: 'GET', path: () => '/admin/overview' },
  { method: 'GET', path: () => '/admin/sagas' },
  { method: 'GET', path: (id) => `/admin/sagas/${id}` },
  { method: 'POST', path: (id) => `/admin/sagas/${id}/redrive` },
  { method: 'GET', path: (id) => `/admin/flows/${id}` },
  { method: 'GET', path: () => '/admin/projections' },
  { method: 'POST', path: (id) => `/admin/projections/${id}` },
  { method: 'POST', path: () => '/admin/dev/poison' },
  { method: 'GET', path: (id, other) => `/${id}/${other}` },
];

const request = fc.record({
  route: fc.constantFrom(...routes),
  id: pathId,
  other: pathId,
  encode: fc.boolean(),
  query,
  body: fc.option(rawBody, { nil: undefined }),
  contentType,
  headers,
});

interface Fingerprint {
  /** Per service: pid, restarts, events written, outbox rows, sagas by status, dead letters. */
  services: unknown;
}

async function fingerprint(api: string): Promise<Fingerprint> {
  const response = await fetch(`${api}/admin/overview`, {
    headers: { authorization: `Bearer ${readToken}` },
  });
  const overview = (await response.json()) as {
    services: Array<Record<string, unknown> & { name: string; status: string }>;
  };
  return {
    services: overview.services.map(({ name, status, pid, restarts, events, sagas, deadLetters }) => ({
      name,
      status,
      pid,
      restarts,
      events: (events as { count: number } | undefined)?.count,
      sagas,
      deadLetters,
    })),
  };
}

describe('HTTP fuzz: random requests against every route of the gateway', () => {
  let shop: RunningShop;
  beforeAll(async () => {
    // The fuzzer sends the read-only token: admin reads answer it and are fuzzed too, and admin
    // actions, which need the admin token, are refused like any other bad request.
    shop = await startShop({ SHOP_ADMIN_TOKEN: adminToken, SHOP_READ_TOKEN: readToken, SHOP_DEV: 'false' });
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
  });

  it(`${requestsPerRun} requests: no 5xx, refusals are problem+json, no service restarts, nothing written`, async () => {
    const before = await fingerprint(shop.api);
    const fivexx: string[] = [];
    const notProblems: string[] = [];
    const acted: string[] = [];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (sample) => {
        const segment = (value: string) => (sample.encode ? encodeURIComponent(value) : value);
        const path = sample.route.path(segment(sample.id), segment(sample.other));
        const url = `${shop.api}${path}${sample.query ? `?${sample.query}` : ''}`;
        const sendsBody = sample.route.method !== 'GET' && sample.body !== undefined;
        const requestHeaders: Record<string, string> = {
          authorization: `Bearer ${readToken}`,
          ...sample.headers,
        };
        if (sendsBody && sample.contentType) requestHeaders['content-type'] = sample.contentType;
        const what = `${sample.route.method} ${path.slice(0, 120)} ${sendsBody ? sample.body!.slice(0, 80) : ''}`;
        let response: Response;
        try {
          response = await fetch(url, {
            method: sample.route.method,
            headers: requestHeaders,
            ...(sendsBody ? { body: sample.body } : {}),
          });
        } catch (error) {
          // 'fetch failed' is the network (a reset, a refused connection): the shop's fault. Any
          // other TypeError is fetch refusing to send a header or URL it cannot encode.
          if (error instanceof TypeError && error.message !== 'fetch failed') return;
          // A body over the limit is refused with 413 while the connection reads the rest of it
          // (oversized-body.ts), so even that gets an answer.
          throw new Error(`${what}: no answer`, { cause: error });
        }
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) fivexx.push(`${response.status} ${what}: ${text.slice(0, 200)}`);
        else if (response.status >= 400 && !response.headers.get('content-type')?.includes('problem+json'))
          notProblems.push(`${response.status} ${what}`);
        else if (response.status < 400 && sample.route.method !== 'GET')
          acted.push(`${response.status} ${what}`);
      }),
      { numRuns: requestsPerRun, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );
    console.log(`[http fuzz] statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(fivexx).toEqual([]);
    expect(notProblems).toEqual([]);
    // Every write above was built to be invalid, so none may have been accepted...
    expect(acted).toEqual([]);
    // ...and none may have left a trace: no event, saga or dead letter, no restarted process.
    expect(await fingerprint(shop.api)).toEqual(before);
  }, 300_000);
});
