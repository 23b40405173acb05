/**
 * The admin dashboard of a service of the user's own, in Debian's Chromium: a compensated saga
 * listed where it failed and opened with its steps, a dead letter redriven by a click, a flow
 * found by its correlation id, and with tokens the page asking for one before it shows anything.
 */
import { describeWithChromium, launchChromium } from '@causeway/testing/chromium';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type SampleService, startSampleService } from './test-support/sample-service.ts';

const pollOptions = { timeout: 15_000, interval: 100 };

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
            .locator('#saga-detail li.step')
            .evaluateAll((steps) => steps.map((step) => step.getAttribute('data-step'))),
        pollOptions,
      )
      .toEqual(['reserveStock', 'charge']);
    expect(await page.locator('#saga-detail').textContent()).toContain('card declined');
  });

  it('redrives a dead letter by a click, through the consumer that owns it', async () => {
    open.breakStock(true);
    await open.countStock('mugs');
    await page.goto(`${open.url}/#dead-letters`);
    const dead = page.locator('[data-testid="dead-letter"][data-status="dead"]');
    await expect.poll(() => dead.count(), pollOptions).toBe(1);
    expect(await dead.textContent()).toContain('the stock ledger is locked');
    open.breakStock(false);
    await dead.getByRole('button', { name: 'Redrive' }).click();
    await expect
      .poll(() => page.locator('[data-testid="dead-letter"][data-status="redriven"]').count(), pollOptions)
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
