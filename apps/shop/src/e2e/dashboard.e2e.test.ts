/**
 * The dashboard in a real browser against the whole shop (the supervisor, seven services and the
 * gateway as processes): it loads with no console error, shows a declined order's saga with its
 * compensations in reverse, redrives a dead letter by a click, and its projection lag figure
 * follows a paused and resumed projection; an event the query projection cannot read is listed in
 * the dead-letter view while the projection goes on. UPDATE_SCREENSHOTS=1 writes the screenshots the
 * docs/shop.md shows into docs/screenshots/ (otherwise into a temporary folder).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newMessageId } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithChromium, launchChromium } from './chromium.ts';
import { type RunningShop, startShop } from './running-shop.ts';

const screenshots = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url))
  : mkdtempSync(join(tmpdir(), 'causeway-dashboard-'));
const pollOptions = { timeout: 30_000, interval: 200 };

describeWithChromium('the dashboard in Chromium', () => {
  let shop: RunningShop;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const root = () => shop.api.replace(/\/api$/, '/');
  const text = (selector: string) => page.locator(selector).first().textContent({ timeout: 5_000 });
  /** A screenshot (of an element, or the viewport) without toasts; a scroll area shown whole when `unscroll`. */
  async function shoot(name: string, selector?: string, unscroll?: string) {
    await page.evaluate((area) => {
      document.getElementById('toasts')?.replaceChildren();
      const element = area ? document.querySelector<HTMLElement>(area) : null;
      if (element) element.style.maxHeight = 'none';
    }, unscroll ?? null);
    await (selector
      ? page.locator(selector).screenshot({ path: join(screenshots, name) })
      : page.screenshot({ path: join(screenshots, name) }));
  }

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    shop = await startShop();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.goto(root());
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  }, 60_000);

  it('loads, shows every service up and the live stream connected, with no console error', async () => {
    await expect
      .poll(() => page.locator('#service-map g.node[data-status="up"]').count(), pollOptions)
      .toBe(8);
    expect(await text('#connection')).toBe('live');
    expect(await page.locator('#service-map [data-testid="service-table"] tbody tr').count()).toBe(8);
    expect(await text('#mode')).toContain('dev mode');
    expect(consoleErrors).toEqual([]);
  });

  it('places a declined order from the form and shows its saga compensating in reverse', async () => {
    await page.fill('#order-token', 'tok_declined');
    await page.click('#place-order');
    await expect
      .poll(() => page.locator('#saga-detail .detail-head .pill').first().textContent(), pollOptions)
      .toBe('compensated');

    const boxes = (kind: string) =>
      page.$$eval(`#saga-detail [data-kind="${kind}"]`, (elements) =>
        elements.map((element) => [
          (element as HTMLElement).dataset.name,
          (element as HTMLElement).dataset.status,
        ]),
      );
    expect(await boxes('forward')).toEqual([
      ['createOrder', 'succeeded'],
      ['reserveInventory', 'succeeded'],
      ['processPayment', 'failed'],
      ['shipOrder', 'pending'],
    ]);
    expect(await boxes('compensation')).toEqual([
      ['releaseInventory', 'compensated'],
      ['cancelOrder', 'compensated'],
    ]);
    const payment = await text('#saga-detail [data-kind="forward"][data-name="processPayment"]');
    expect(payment).toContain('card declined');
    // Declined is final: one attempt, no retries.
    expect(payment).toContain('1 attempt ');
    // Drawn under the step it undoes: releaseInventory in reserveInventory's column.
    const column = (selector: string) =>
      page.locator(selector).evaluate((element) => (element as HTMLElement).style.gridColumn);
    expect(await column('#saga-detail [data-name="releaseInventory"]')).toBe(
      await column('#saga-detail [data-kind="forward"][data-name="reserveInventory"]'),
    );
    await expect.poll(() => page.locator('[data-testid="order-status"]').count(), pollOptions).toBe(1);
    expect(await text('[data-testid="order-status"]')).toBe('CANCELLED');

    // The flow view follows the order into the participants, by its correlation id.
    await expect
      .poll(
        () =>
          page
            .locator('#flow-view tr[data-service="inventory"], #flow-view tr[data-service="payments"]')
            .count(),
        pollOptions,
      )
      .toBeGreaterThanOrEqual(3);
    await shoot('saga-compensated.png', '#saga-panel');
    await shoot('flow.png', '#flow', '#flow-view');
  });

  /** Creates a product and waits until the query projection lists it, with no lag left. */
  async function createProductAndSeeItRead(sku: string, name: string) {
    const created = await fetch(`${shop.api}/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, name, priceCents: 100 }),
    });
    expect(created.status).toBe(201);
    const listed = async () =>
      (
        (await (await fetch(`${shop.api}/products?search=${encodeURIComponent(name)}`)).json()) as {
          items: unknown[];
        }
      ).items.length;
    await expect.poll(listed, pollOptions).toBe(1);
    await expect
      .poll(() => page.locator('[data-testid="lag-events-catalog"]').textContent(), pollOptions)
      .toBe('0');
  }

  /** Sends a poison message from the form; answers the id of its row once it is dead. */
  async function poison(service: string, kind: 'once' | 'always') {
    await page.selectOption('#poison-service', service);
    await page.selectOption('#poison-kind', kind);
    await page.click('#poison-send');
    const dead = page
      .locator(`[data-testid="dead-letter-row"][data-status="dead"][data-id^="${service}:"]`)
      .first();
    await dead.waitFor({ timeout: 30_000 });
    expect(await dead.textContent()).toContain('poison message refused on attempt 1');
    return (await dead.getAttribute('data-id'))!;
  }
  const rowOf = (id: string) => page.locator(`[data-testid="dead-letter-row"][data-id="${id}"]`);
  const listedStatus = async (id: string) => {
    const listed = (await (await fetch(`${shop.api}/dead-letters`)).json()) as {
      items: Array<{ id: string; status: string }>;
    };
    return listed.items.find((entry) => entry.id === id)?.status;
  };

  it('redrives a dead letter by clicking, and discards one that keeps failing', async () => {
    const once = await poison('payments', 'once');
    await rowOf(once).locator('[data-action="redrive"]').click();
    await expect.poll(() => rowOf(once).getAttribute('data-status'), pollOptions).toBe('redriven');
    expect(await listedStatus(once)).toBe('redriven');

    const always = await poison('shipping', 'always');
    await rowOf(always).locator('[data-action="payload"]').click();
    expect(await page.locator('#dead-letters .payload').textContent()).toContain('"type": "dev.Poison"');
    await shoot('dead-letters.png', '#dead-letters');
    await rowOf(always).locator('[data-action="redrive"]').click();
    await expect.poll(() => rowOf(always).textContent(), pollOptions).toContain('attempt 2');
    expect(await rowOf(always).getAttribute('data-status')).toBe('dead');
    await rowOf(always).locator('[data-action="discard"]').click();
    await expect.poll(() => rowOf(always).getAttribute('data-status'), pollOptions).toBe('discarded');
    expect(await listedStatus(always)).toBe('discarded');
  });

  it('shows the projection lag grow while paused and fall back to 0 after resume', async () => {
    const lagEvents = () => page.locator('[data-testid="lag-events-catalog"]').textContent();
    const lagSeconds = async () =>
      Number.parseFloat((await page.locator('[data-testid="lag-seconds-catalog"]').textContent()) ?? 'NaN');
    await expect.poll(lagEvents, pollOptions).toBe('0');

    await page.click('#projection-pause');
    await expect.poll(() => text('#projection-status .pill'), pollOptions).toBe('paused');
    const created = await fetch(`${shop.api}/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'LAG-1', name: 'Lag probe', priceCents: 100 }),
    });
    expect(created.status).toBe(201);
    await expect.poll(lagEvents, pollOptions).toBe('1');
    const first = await lagSeconds();
    await expect.poll(lagSeconds, pollOptions).toBeGreaterThan(first);
    await shoot('projections.png', '#projections');

    await page.click('#projection-resume');
    await expect.poll(lagEvents, pollOptions).toBe('0');
    expect(await text('#projection-status .pill')).toBe('live');
  });

  it('rebuilds the read models from the sources by a click, with progress, and they agree again', async () => {
    const orderId = await text('[data-testid="placed-order"]');
    const order = (await (await fetch(`${shop.api}/orders/${orderId}`)).json()) as { user: { id: string } };
    await page.click('#projection-rebuild');
    await expect
      .poll(() => text('#projection-rebuild-progress'), pollOptions)
      .toMatch(/rebuild done: (\d+) of \1 events/);
    expect(await page.locator('[data-testid="rebuild-progress"]').getAttribute('value')).toBe('1');
    await expect.poll(() => text('#projection-status .pill'), pollOptions).toBe('live');

    const myOrders = (await (await fetch(`${shop.api}/users/${order.user.id}/orders`)).json()) as {
      items: Array<{ orderId: string; status: string }>;
    };
    expect(myOrders.items).toEqual([expect.objectContaining({ orderId, status: 'CANCELLED' })]);
    const search = (await (await fetch(`${shop.api}/products?search=lag%20probe`)).json()) as {
      items: Array<{ name: string }>;
    };
    expect(search.items.map((item) => item.name)).toEqual(['Lag probe']);
    // Live again after the rebuild: a new write shows up in the read model.
    await createProductAndSeeItRead('AFTER-1', 'After rebuild');
  });

  it("shows a projection's poison event in the dead-letter view, goes on past it, and discards it by a click", async () => {
    // A producer that broke its schema: a catalog event the query projection cannot read, put on
    // the catalog's destination in the shop's own transport as the catalog's relay would.
    const transport = createEmbeddedTransport({ filename: join(shop.dataDir, 'transport.db') });
    const id = newMessageId();
    const streamId = `product-poison-${id}`;
    try {
      await transport.publish([
        {
          id,
          destination: 'catalog.events',
          orderingKey: streamId,
          type: 'catalog.ProductCreated',
          payload: {
            id,
            type: 'catalog.ProductCreated',
            schemaVersion: 1,
            streamId,
            streamPosition: 1,
            globalPosition: 0,
            correlationId: id,
            causationId: null,
            occurredAt: new Date().toISOString(),
            metadata: {},
            data: { productId: streamId, sku: 'POISON-1', name: 'Poison', priceCents: 'free' },
          },
        },
      ]);
    } finally {
      await transport.close();
    }
    const row = page
      .locator(`[data-testid="dead-letter-row"][data-status="dead"][data-id^="query:"]`)
      .first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('priceCents');
    const rowId = (await row.getAttribute('data-id'))!;

    // The projection goes on: a product created after the poison shows up in the read model.
    await createProductAndSeeItRead('PAST-1', 'Past the poison');
    await shoot('projection-dead-letter.png', '#dead-letters');

    await rowOf(rowId).locator('[data-action="discard"]').click();
    await expect.poll(() => rowOf(rowId).getAttribute('data-status'), pollOptions).toBe('discarded');
    expect(await listedStatus(rowId)).toBe('discarded');
  });

  it('kept the console free of errors throughout', async () => {
    // The top of the page: service map, order form, sagas and the last saga's timeline.
    await page.setViewportSize({ width: 1400, height: 1380 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await shoot('dashboard.png');
    expect(consoleErrors).toEqual([]);
  });
});
