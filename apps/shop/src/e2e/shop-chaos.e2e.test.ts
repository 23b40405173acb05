/**
 * Chaos: while 200 orders are placed at concurrency 8 (each client retries with its
 * Idempotency-Key, and waits up to 5 s for an order's outcome before placing its next one), a
 * random service other than the gateway is SIGKILLed every 1–2 s and the
 * supervisor restarts it. After quiescence every order must be CONFIRMED or CANCELLED within 90 s;
 * a confirmed order was charged exactly its total and refunded nothing; a cancelled one was
 * refunded what it was charged; stock is conserved (initial = available + sold) with nothing left
 * reserved.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pause, type RunningShop, startShop, until } from './running-shop.ts';

const orderCount = 200;
const concurrency = 8;
const initialStock = 150;
const tokens = [
  'tok_visa',
  'tok_visa',
  'tok_visa',
  'tok_declined',
  'tok_flaky',
  'tok_visa',
  'tok_timeout',
  'tok_visa',
];

let shop: RunningShop;
beforeAll(async () => {
  shop = await startShop({ SHOP_PAYMENT_TIMEOUT_MS: '5000' });
}, 120_000);
afterAll(async () => shop?.stop());

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field by the assertions
type Json = any;

/** A call that retries (same request, same Idempotency-Key) until the shop answers below 500. */
async function call(
  method: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<{ status: number; body: Json }> {
  let last = '';
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${shop.api}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status < 500) return { status: response.status, body: text ? JSON.parse(text) : null };
      last = `${response.status} ${text}`;
    } catch (error) {
      // The gateway's call to a killed service, or a timeout: try again.
      last = String(error);
    }
    if (attempt > 100)
      throw new Error(`${method} ${path}: no answer below 500 after ${attempt} attempts; last: ${last}`);
    await pause(Math.min(2_000, 100 * attempt));
  }
}

it('SIGKILL of a random service every 1–2 s while 200 orders are placed: every order ends, money and stock add up', async () => {
  const user = await call(
    'POST',
    '/users',
    { name: 'Chaos Monkey', email: 'chaos@example.com' },
    'chaos-user',
  );
  const products: string[] = [];
  for (const [index, price] of [300, 450, 700].entries()) {
    const product = await call(
      'POST',
      '/products',
      { sku: `CHAOS-${index}`, name: `Chaos ${index}`, priceCents: price },
      `chaos-product-${index}`,
    );
    products.push(product.body.id);
    expect(
      (
        await call(
          'POST',
          `/inventory/${product.body.id}/restock`,
          { quantity: initialStock },
          `chaos-restock-${index}`,
        )
      ).status,
    ).toBe(200);
  }

  let killing = true;
  const kills: string[] = [];
  const killer = (async () => {
    while (killing) {
      await pause(1_000 + Math.random() * 1_000);
      if (!killing) break;
      const health = await fetch(`${shop.api}/health`).then(
        (r) => r.json(),
        () => null,
      );
      const up = Object.entries<{ status: string; pid: number | null }>(health?.services ?? {}).filter(
        ([name, service]) => name !== 'gateway' && service.status === 'up' && service.pid,
      );
      const victim = up[Math.floor(Math.random() * up.length)];
      if (!victim) continue;
      try {
        process.kill(victim[1].pid!, 'SIGKILL');
        kills.push(victim[0]);
      } catch {
        // Already gone.
      }
    }
  })();

  const placed: Array<{ orderId: string; token: string; productId: string; quantity: number }> = [];
  let next = 0;
  const client = async () => {
    while (next < orderCount) {
      const i = next++;
      const productId = products[i % products.length]!;
      const token = tokens[i % tokens.length]!;
      const quantity = 1 + (i % 2);
      const answer = await call(
        'POST',
        '/orders',
        { userId: user.body.id, items: [{ productId, quantity }], payment: { token } },
        `chaos-order-${i}`,
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      placed.push({ orderId: answer.body.orderId, token, productId, quantity });
      // Like a shopper, waits (a while) for the outcome before the next order: the kills then
      // land on orders in every stage, not only on their placement.
      await until(
        () => call('GET', `/orders/${answer.body.orderId}`),
        (order) => order.status === 200 && order.body.status !== 'PENDING',
        { timeoutMs: 5_000, everyMs: 200 },
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  killing = false;
  await killer;
  console.info('[shop chaos] kills', JSON.stringify(countBy(kills, (name) => name)));
  expect(new Set(placed.map((order) => order.orderId)).size).toBe(orderCount);
  expect(kills.length).toBeGreaterThanOrEqual(10);

  // Quiescence: every order terminal within 90 s.
  const deadline = Date.now() + 90_000;
  const outcomes = new Map<string, Json>();
  while (outcomes.size < orderCount && Date.now() < deadline) {
    for (const order of placed) {
      if (outcomes.has(order.orderId)) continue;
      const answer = await call('GET', `/orders/${order.orderId}`);
      if (answer.status === 200 && answer.body.status !== 'PENDING' && !answer.body.partial)
        outcomes.set(order.orderId, answer.body);
    }
    if (outcomes.size < orderCount) await pause(500);
  }
  const stuck = placed.filter((order) => !outcomes.has(order.orderId));
  expect(
    stuck.map((order) => `${order.orderId} (${order.token})`),
    'orders not CONFIRMED or CANCELLED within 90 s',
  ).toEqual([]);

  const problems: string[] = [];
  for (const order of placed) {
    const outcome = outcomes.get(order.orderId)!;
    const { chargedCents, refundedCents } = outcome.payment;
    if (outcome.status === 'CONFIRMED') {
      if (chargedCents !== outcome.totalCents || refundedCents !== 0)
        problems.push(
          `${order.orderId} CONFIRMED: charged ${chargedCents} refunded ${refundedCents} of ${outcome.totalCents}`,
        );
      if (order.token === 'tok_declined' || order.token === 'tok_timeout')
        problems.push(`${order.orderId} CONFIRMED with ${order.token}`);
    } else if (chargedCents !== refundedCents) {
      problems.push(`${order.orderId} CANCELLED: charged ${chargedCents} refunded ${refundedCents}`);
    }
  }
  expect(problems).toEqual([]);

  for (const productId of products) {
    const sold = placed
      .filter((order) => order.productId === productId && outcomes.get(order.orderId)!.status === 'CONFIRMED')
      .reduce((sum, order) => sum + order.quantity, 0);
    const stock = await until(
      () => call('GET', `/inventory/${productId}`),
      (answer) => answer.body.reserved === 0,
      { everyMs: 200 },
    );
    expect(stock.body.reserved, `${productId} reserved`).toBe(0);
    expect(stock.body.available + sold, `${productId}: available + sold`).toBe(initialStock);
  }
  const statuses = countBy([...outcomes.values()], (outcome) => String(outcome.status));
  console.info('[shop chaos] outcomes', JSON.stringify({ statuses, kills: kills.length }));
  // Under kills most payments miss their 5 s deadline and are cancelled, correctly: CI runs
  // confirmed 32, 37 and 10 of 200. The happy path must still get through at least once.
  expect(statuses.CONFIRMED ?? 0).toBeGreaterThan(0);
}, 600_000);

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}
