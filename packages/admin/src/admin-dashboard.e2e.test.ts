/**
 * The admin dashboard of a service of the user's own, in Debian's Chromium: a compensated saga
 * listed where it failed and opened with its steps, a dead letter redriven by a click, a flow
 * found by its correlation id, a traced flow's trace drawn as a waterfall from the spans the
 * process recorded, and with tokens the page asking for one before it shows anything.
 */
import { fileURLToPath } from 'node:url';
import { startTracing } from '@causeway/opentelemetry';
import { startOtlpReceiver } from '@causeway/testing';
import { describeWithChromium, launchChromium } from '@causeway/testing/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type SampleService, startSampleService } from './test-support/sample-service.ts';

const pollOptions = { timeout: 15_000, interval: 100 };
/** With UPDATE_SCREENSHOTS set, the page as the docs show it (docs/operations.md). */
const screenshot = (page: Page, name: string) =>
  process.env.UPDATE_SCREENSHOTS
    ? page.screenshot({ path: fileURLToPath(new URL(`../../../docs/screenshots/${name}`, import.meta.url)) })
    : undefined;

describeWithChromium('the admin dashboard of a service of its own, in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let open: SampleService;
  let guarded: SampleService;
  const errors: string[] = [];

  beforeAll(async () => {
    open = await startSampleService('open');
    guarded = await startSampleService({ readToken: 'look', adminToken: 'act' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (error) => errors.push(String(error)));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await open?.stop();
    await guarded?.stop();
  });

  it('lists a compensated saga where it failed and opens it with its steps', async () => {
    await open.placeDeclinedOrder('order-7');
    await page.goto(`${open.url}/#sagas`);
    const row = page.locator('tr[data-saga="order-7"]');
    await expect.poll(() => row.count(), pollOptions).toBe(1);
    expect(await row.locator('[data-testid="step"]').textContent()).toBe('failed at charge');
    await row.click();
    await expect
      .poll(
        () =>
          page
            .locator('#saga-detail .saga-diagram .step[data-kind]')
            .evaluateAll((boxes) =>
              boxes.map((box) => `${box.dataset.kind} ${box.dataset.name} ${box.dataset.status}`),
            ),
        pollOptions,
      )
      .toEqual([
        'forward reserveStock succeeded',
        'forward charge failed',
        'compensation releaseStock compensated',
      ]);
    // The compensation is drawn under the step it undoes, one row below.
    const place = (name: string) =>
      page
        .locator(`#saga-detail .step[data-name="${name}"]`)
        .evaluate((box) => ({ x: box.getBoundingClientRect().x, y: box.getBoundingClientRect().y }));
    const step = await place('reserveStock');
    const undo = await place('releaseStock');
    expect(undo.x).toBe(step.x);
    expect(undo.y).toBeGreaterThan(step.y);
    await screenshot(page, 'admin-saga.png');
    expect(await page.locator('#saga-detail').textContent()).toContain('card declined');
  });

  it('redrives a dead letter by a click, through the consumer that owns it', async () => {
    open.breakStock(true);
    await open.countStock('mugs');
    await page.goto(`${open.url}/#dead-letters`);
    const dead = page.locator('[data-testid="dead-letter-row"][data-status="dead"]');
    await expect.poll(() => dead.count(), pollOptions).toBe(1);
    expect(await dead.textContent()).toContain('the stock ledger is locked');
    open.breakStock(false);
    await dead.getByRole('button', { name: 'Redrive' }).click();
    await expect
      .poll(
        () => page.locator('[data-testid="dead-letter-row"][data-status="redriven"]').count(),
        pollOptions,
      )
      .toBe(1);
  });

  it('finds a flow by its correlation id, and shows the overview', async () => {
    await page.fill('#find-id', 'order-7');
    await page.press('#find-id', 'Enter');
    await page.click('nav a[href="#flow"]');
    await expect
      .poll(() => page.locator('#view-flow tr[data-kind="compensation"]').count(), pollOptions)
      .toBe(1);
    await page.click('nav a[href="#overview"]');
    await expect
      .poll(() => page.locator('[data-testid="dead"]').textContent(), pollOptions)
      .toBe('0 waiting');
    expect(await page.locator('#service').textContent()).toBe('shop');
    expect(errors).toEqual([]);
  });

  it("draws a traced flow's trace as a waterfall: a row per recorded span, a child indented under its parent", async () => {
    const receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
    const tracing = startTracing({ serviceName: 'shop', serviceInstanceId: 'shop-1' })!;
    const traced = await startSampleService('open', { traces: tracing });
    try {
      await traced.countStock('teapots');
      const flow = await (await fetch(`${traced.url}/api/flows/count-teapots`)).json();
      const traceId: string = flow.entries[0].traceId;
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const named = (name: string) => tracing.spansOf(traceId).find((span) => span.name === name);
      await expect.poll(() => named('process stock.events') !== undefined, pollOptions).toBe(true);
      const spans = tracing.spansOf(traceId);
      const append = named('causeway.append')!;
      const handling = named('process stock.events')!;
      expect(handling.parentSpanId).toBe(append.spanId);

      await page.goto(`${traced.url}/#overview`);
      await page.fill('#find-id', 'count-teapots');
      await page.press('#find-id', 'Enter');
      await page.click('nav a[href="#flow"]');
      const rows = page.locator(`#view-flow .waterfall[data-trace="${traceId}"] [data-testid="span-row"]`);
      await expect.poll(() => rows.count(), pollOptions).toBe(spans.length);
      expect(spans.length).toBeGreaterThanOrEqual(3);
      const row = (span: { spanId: string }) =>
        page.locator(`[data-testid="span-row"][data-span="${span.spanId}"]`);
      const indent = (span: { spanId: string }) =>
        row(span)
          .locator('.waterfall-label')
          .evaluate((label) => Number.parseFloat(getComputedStyle(label).paddingLeft));
      expect(await row(append).getAttribute('data-depth')).toBe('0');
      expect(await row(handling).getAttribute('data-depth')).toBe('1');
      expect(await indent(handling)).toBeGreaterThan(await indent(append));
      expect(await row(handling).textContent()).toMatch(/shop\/shop-1 process stock\.events [0-9.]+ ms/);

      // At a phone's width the page does not scroll sideways; the waterfall keeps its rows.
      await page.setViewportSize({ width: 375, height: 800 });
      expect(
        await page.evaluate(
          () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
        ),
      ).toBe(true);
      expect(await rows.count()).toBe(spans.length);
      expect(errors).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
      await traced.stop();
      await tracing.shutdown();
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      await receiver.close();
    }
  });

  it('lays out a waterfall from the spans alone: depth by parent, bars against the whole trace', async () => {
    await page.goto(`${open.url}/#overview`);
    // The page's own module, as the dashboard imports it (a module script: the test's code is bundled).
    await page.addScriptTag({
      type: 'module',
      content: `import { waterfallRows } from '${open.url}/waterfall.js'; window.waterfallRows = waterfallRows;`,
    });
    await page.waitForFunction(() => 'waterfallRows' in window);
    const span = (spanId: string, parentSpanId: string | null, startMs: number, durationMs: number) => ({
      spanId,
      parentSpanId,
      startMs,
      durationMs,
    });
    type Row = { span: { spanId: string }; depth: number; offset: number; width: number };
    const layout = async (spans: ReturnType<typeof span>[]) => {
      const rows = await page.evaluate(
        (given) => (window as unknown as { waterfallRows(spans: unknown[]): Row[] }).waterfallRows(given),
        spans,
      );
      return rows.map(
        (row) => `${row.span.spanId} ${row.depth} ${row.offset.toFixed(1)} ${row.width.toFixed(1)}`,
      );
    };
    // The child starting later comes after its earlier sibling's subtree; a span whose parent ran
    // in another process is a root.
    expect(
      await layout([
        span('late', 'root', 1_060, 40),
        span('root', null, 1_000, 80),
        span('early', 'root', 1_010, 20),
        span('grandchild', 'early', 1_015, 5),
        span('orphan', 'elsewhere', 1_050, 10),
      ]),
    ).toEqual([
      'root 0 0.0 80.0',
      'early 1 10.0 20.0',
      'grandchild 2 15.0 5.0',
      'late 1 60.0 40.0',
      'orphan 0 50.0 10.0',
    ]);
    // One instant span: a full bar, not a division by zero.
    expect(await layout([span('instant', null, 1_000, 0)])).toEqual(['instant 0 0.0 100.0']);
    expect(await layout([])).toEqual([]);
  });

  it('asks for a token when the service wants one, and shows the data once it has the read token', async () => {
    await guarded.placeDeclinedOrder('order-8');
    await page.goto(`${guarded.url}/#sagas`);
    await expect
      .poll(() => page.locator('#notice').textContent(), pollOptions)
      .toContain('enter a token above');
    expect(await page.locator('tr[data-saga]').count()).toBe(0);
    await page.fill('#token', 'look');
    await page.press('#token', 'Tab');
    await expect.poll(() => page.locator('tr[data-saga="order-8"]').count(), pollOptions).toBe(1);
    expect(await page.locator('#notice').isHidden()).toBe(true);
  });
});
