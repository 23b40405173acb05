/**
 * The shop with tracing on (`SHOP_TRACING=true`), every process exporting over OTLP/HTTP to one
 * receiver: an order placed with the caller's `traceparent` is one trace, a single tree across
 * the gateway and the services, through HTTP calls, appends, publishes, handling and saga steps.
 * On embedded defaults.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { formatWaterfall, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '@causeway/testing';
import { describeWithChromium, launchChromium } from '@causeway/testing/chromium';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningShop, startShop, until } from './running-shop.ts';
import { shopApi } from './shop-api.ts';

let shop: RunningShop;
let receiver: OtlpReceiver;
/** The order the first test placed, and its trace: the dashboard's tests draw it. */
let traced: { orderId: string; traceId: string } | undefined;
const api = shopApi(() => shop.api);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  shop = await startShop({
    SHOP_TRACING: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
}, 120_000);
afterAll(async () => {
  await shop?.stop();
  await receiver?.close();
});

/** `span`'s ancestors up to the trace's root, nearest first. */
function ancestorsOf(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) {
    chain.push(parent);
  }
  return chain;
}

it('one order is one trace: a single tree across the gateway and every service it reaches', async () => {
  const user = await api('POST', '/users', { name: 'Trace Tester', email: 'trace@example.com' });
  const product = await api('POST', '/products', { sku: 'TRACE-1', name: 'Traced tea', priceCents: 450 });
  await api('POST', `/inventory/${product.body.id}/restock`, { quantity: 5 });

  // The caller's own span: the shop continues its trace.
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const placed = await api(
    'POST',
    '/orders',
    {
      userId: user.body.id,
      items: [{ productId: product.body.id, quantity: 2 }],
      payment: { token: 'tok_visa' },
    },
    { traceparent: `00-${traceId}-${callerSpanId}-01` },
  );
  expect(placed.status).toBe(202);
  const done = await until(
    () => api('GET', `/orders/${placed.body.orderId}`),
    (answer) => answer.body.status === 'CONFIRMED',
  );
  expect(done.body.status).toBe('CONFIRMED');
  traced = { orderId: placed.body.orderId, traceId };

  // The last hop's spans leave their process at the next export (every 200 ms).
  const sagaCompleted = (spans: ReceivedSpan[]) =>
    spans.some((span) => span.name === 'process orders.saga-replies' && span.service === 'orders') &&
    spans.some((span) => span.service === 'shipping');
  const spans = await until(
    async () => receiver.trace(traceId),
    (now) => sagaCompleted(now),
    { timeoutMs: 20_000, everyMs: 250 },
  );
  // Let the stragglers of the same trace (e.g. analytics' handling) arrive too.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const trace = receiver.trace(traceId);
  expect(trace.length).toBeGreaterThanOrEqual(spans.length);
  console.log(`One order's trace:\n${formatWaterfall(trace)}`);

  // One tree: every span's parent is in the trace, but the gateway's, whose parent is the caller's.
  const byId = new Map(trace.map((span) => [span.spanId, span]));
  const orphans = trace.filter((span) => !byId.has(span.parentSpanId ?? ''));
  expect(orphans.map((span) => `${span.service}: ${span.name}`)).toEqual(['gateway: POST /api/orders']);
  expect(orphans[0]!.parentSpanId).toBe(callerSpanId);
  expect(new Set(trace.map((span) => span.spanId)).size).toBe(trace.length);

  // Every hop shows: the gateway's call to orders, the saga's steps and their handling elsewhere.
  const services = new Set(trace.map((span) => span.service));
  for (const service of ['gateway', 'orders', 'inventory', 'payments', 'shipping'])
    expect(services).toContain(service);
  const names = new Set(trace.map((span) => span.name));
  for (const name of ['POST orders', 'POST /orders', 'causeway.append', 'process orders.saga-replies']) {
    expect(names, name).toContain(name);
  }
  const steps = trace.filter((span) => span.attributes['causeway.saga.step'] !== undefined);
  expect(steps.length).toBeGreaterThanOrEqual(2);
  for (const step of steps) {
    expect(step.attributes['causeway.saga.action']).toBe('invoke');
    expect(step.service).toBe('orders');
  }
  // A participant's handling of a step descends from that step, in another process.
  const handled = trace.filter((span) => span.kind === 5 && span.service !== 'orders');
  expect(handled.length).toBeGreaterThan(0);
  const underStep = handled.filter((span) =>
    ancestorsOf(span, byId).some((ancestor) => ancestor.attributes['causeway.saga.step'] !== undefined),
  );
  expect(underStep.map((span) => span.service)).toEqual(expect.arrayContaining(['inventory', 'payments']));
  // Children start no earlier than their parents (clocks of one machine).
  for (const span of trace) {
    const parent = byId.get(span.parentSpanId ?? '');
    if (parent)
      expect(span.startNs >= parent.startNs, `${span.name} starts before ${parent.name}`).toBe(true);
  }
}, 60_000);

describeWithChromium("the dashboard's flow view, from the spans each process keeps", () => {
  it('gathers the trace from every process: the spans the collector received, with their parents', async () => {
    expect(traced, 'the first test placed a traced order').toBeDefined();
    const { traceId, orderId } = traced!;
    const exported = receiver.trace(traceId);
    const gathered = await api('GET', `/admin/traces/${traceId}`);
    expect(gathered.status).toBe(200);
    expect(gathered.body.recorded).toBe(true);
    expect(gathered.body.partial).toBeUndefined();
    const kept = new Map<string, { parentSpanId: string | null; service: string; name: string }>(
      gathered.body.spans.map((span: { spanId: string }) => [span.spanId, span]),
    );
    // Every span the collector got, each process kept too, under the same parent.
    for (const span of exported) {
      const same = kept.get(span.spanId);
      expect(same, `${span.service}: ${span.name}`).toBeDefined();
      expect(same!.parentSpanId ?? undefined).toBe(span.parentSpanId);
      expect(same!.service).toBe(span.service);
    }
    // The flow names its trace, so the dashboard knows what to draw.
    const flow = await api('GET', `/admin/flows/${orderId}`);
    expect(flow.body.entries.some((entry: { traceId?: string }) => entry.traceId === traceId)).toBe(true);
    expect((await api('GET', '/admin/traces/not-a-trace-id')).status).toBe(400);
  });

  it('draws it as a waterfall under the flow: a row per span, each child below and indented past its parent', async () => {
    const { traceId, orderId } = traced!;
    const kept = (await api('GET', `/admin/traces/${traceId}`)).body.spans as Array<{
      spanId: string;
      parentSpanId: string | null;
    }>;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(shop.api.replace(/\/api$/, '/'));
      await page.fill('#flow-id', orderId);
      await page.press('#flow-id', 'Enter');
      const rows = page.locator(`#flow-view .waterfall[data-trace="${traceId}"] [data-testid="span-row"]`);
      await expect.poll(() => rows.count(), { timeout: 30_000, interval: 200 }).toBe(kept.length);
      const drawn = await rows.evaluateAll((items) =>
        items.map((item) => ({
          spanId: (item as HTMLElement).dataset.span!,
          depth: Number((item as HTMLElement).dataset.depth),
          indent: Number.parseFloat(getComputedStyle(item.querySelector('.waterfall-label')!).paddingLeft),
        })),
      );
      const at = new Map(drawn.map((row, index) => [row.spanId, { ...row, index }]));
      let children = 0;
      for (const span of kept) {
        const parent = at.get(span.parentSpanId ?? '');
        if (!parent) continue;
        const child = at.get(span.spanId)!;
        children++;
        expect(child.index).toBeGreaterThan(parent.index);
        expect(child.depth).toBe(parent.depth + 1);
        expect(child.indent).toBeGreaterThan(parent.indent);
      }
      expect(children).toBeGreaterThan(10);
      expect(errors).toEqual([]);
      if (process.env.UPDATE_SCREENSHOTS) {
        const file = fileURLToPath(new URL('../../../../docs/screenshots/flow-trace.png', import.meta.url));
        await page.evaluate(() => {
          document.getElementById('flow-view')!.style.maxHeight = 'none';
          document.querySelector('header')!.style.display = 'none';
        });
        await page.locator('#flow-view .waterfall').screenshot({ path: file });
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
