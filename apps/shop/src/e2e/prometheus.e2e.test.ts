/**
 * A real Prometheus (Debian's `prometheus`) scrapes every process of a running shop every second,
 * with Causeway's alerting rules loaded: every target is up, and the metrics move as orders flow
 * (payments' handled commands, published outbox messages, completed sagas), and every query of the
 * shipped Grafana dashboard has an answer, and its panels drawn from those answers in Chromium show a
 * line each. On embedded defaults.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRequiring } from '@causeway/testing';
import { describeWithChromium, launchChromium } from '@causeway/testing/chromium';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../supervisor/test-support/helpers.ts';
import { type DashboardJson, previewPage, queryPanels } from './dashboard-preview.ts';
import { type RunningShop, startShop, until } from './running-shop.ts';
import { shopApi } from './shop-api.ts';

const prometheusPath = process.env.PROMETHEUS_PATH || '/usr/bin/prometheus';
const alertRules = fileURLToPath(
  new URL('../../../../packages/prometheus/rules/causeway-alerts.yml', import.meta.url),
);
const grafanaDashboard = fileURLToPath(
  new URL('../../../../packages/prometheus/grafana/causeway-dashboard.json', import.meta.url),
);
// Replication slots exist on PostgreSQL only; this shop runs on embedded defaults.
const postgresOnly = new Set(['Replication slot lag (PostgreSQL)']);

describeRequiring(
  'the shop scraped by a real Prometheus',
  existsSync(prometheusPath)
    ? null
    : `Prometheus not found at ${prometheusPath}; install it with \`apt-get install -y prometheus\` or set PROMETHEUS_PATH`,
  () => {
    let shop: RunningShop;
    let prometheus: ChildProcess;
    let prometheusUrl: string;
    let prometheusStartedAt = 0;
    let directory: string;
    let output = '';
    const api = shopApi(() => shop.api);

    /** The value of a PromQL expression now (one series or a sum), or null when it has no sample. */
    async function query(expression: string): Promise<number | null> {
      const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`);
      const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
      const [first] = body.data.result;
      return first ? Number(first.value[1]) : null;
    }

    beforeAll(async () => {
      shop = await startShop({ SHOP_PAYMENT_TIMEOUT_MS: '3000' });
      const health = await api('GET', '/health');
      const targets = Object.entries<{ url: string }>(health.body.services).map(([service, { url }]) => ({
        targets: [new URL(url).host],
        labels: { service },
      }));
      directory = mkdtempSync(join(tmpdir(), 'causeway-prometheus-'));
      const config = join(directory, 'prometheus.yml');
      writeFileSync(
        config,
        JSON.stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: [alertRules],
          scrape_configs: [{ job_name: 'shop', static_configs: targets }],
        }),
      );
      const port = await freePort();
      prometheusUrl = `http://127.0.0.1:${port}`;
      prometheusStartedAt = Date.now() / 1000;
      prometheus = spawn(
        prometheusPath,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(directory, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout?.on('data', (chunk) => (output += chunk));
      prometheus.stderr?.on('data', (chunk) => (output += chunk));
    }, 120_000);
    afterAll(async () => {
      prometheus?.kill('SIGTERM');
      await shop?.stop();
      if (directory) rmSync(directory, { recursive: true, force: true });
    });

    it('scrapes every process, loads the alerting rules, and sees the metrics move as orders flow', async () => {
      const up = await until(
        () => query('sum(up{job="shop"})').catch(() => null),
        (value) => value === 9,
        { timeoutMs: 30_000, everyMs: 500 },
      );
      expect(up, output).toBe(9);
      const rules = await (await fetch(`${prometheusUrl}/api/v1/rules`)).json();
      const group = rules.data.groups.find((each: { name: string }) => each.name === 'causeway');
      expect(group.rules.map((rule: { name: string }) => rule.name).sort()).toEqual([
        'CausewayDeadLetterWaiting',
        'CausewayOutboxStale',
        'CausewayProjectionLagging',
        'CausewayReplicationSlotLagging',
        'CausewaySagaStuck',
      ]);
      expect(group.rules.every((rule: { health: string }) => rule.health === 'ok')).toBe(true);

      const handled =
        'sum(causeway_message_handling_seconds_count{service="payments",consumer="payments"}) or vector(0)';
      const published = 'sum(causeway_outbox_published_total{service="orders"}) or vector(0)';
      const completed = 'sum(causeway_sagas{service="orders",status="completed"}) or vector(0)';
      const before = {
        handled: await query(handled),
        published: await query(published),
        completed: await query(completed),
      };

      const user = await api('POST', '/users', { name: 'Prom Etheus', email: 'prom@example.com' });
      const product = await api('POST', '/products', { sku: 'PROM-1', name: 'Metric tea', priceCents: 300 });
      await api('POST', `/inventory/${product.body.id}/restock`, { quantity: 10 });
      // Read through the gateway's product cache: a miss, then hits.
      for (let i = 0; i < 3; i++) expect((await api('GET', `/products/${product.body.id}`)).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const placed = await api('POST', '/orders', {
          userId: user.body.id,
          items: [{ productId: product.body.id, quantity: 1 }],
          payment: { token: 'tok_visa' },
        });
        expect(placed.status).toBe(202);
        const done = await until(
          () => api('GET', `/orders/${placed.body.orderId}`),
          (answer) => answer.body.status === 'CONFIRMED',
        );
        expect(done.body.status).toBe('CONFIRMED');
      }

      const after = await until(
        async () => ({
          handled: await query(handled),
          published: await query(published),
          completed: await query(completed),
        }),
        (now) =>
          now.completed! >= before.completed! + 3 &&
          now.handled! > before.handled! &&
          now.published! > before.published!,
        { timeoutMs: 20_000, everyMs: 500 },
      );
      expect(after.completed).toBeGreaterThanOrEqual(before.completed! + 3);
      expect(after.handled).toBeGreaterThan(before.handled!);
      expect(after.published).toBeGreaterThan(before.published!);
      // Nothing to alert on in a healthy shop.
      expect(await query('count(ALERTS{alertstate="firing"}) or vector(0)')).toBe(0);

      // The Grafana dashboard's every query, as Grafana would send it for this job, has an answer.
      const dashboard = JSON.parse(readFileSync(grafanaDashboard, 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      const unanswered: string[] = [];
      for (const panel of dashboard.panels.filter((each) => !postgresOnly.has(each.title))) {
        for (const { expr } of panel.targets) {
          const promql = expr.replaceAll('$job', 'shop').replaceAll('$__rate_interval', '1m');
          // A rate needs two scrapes of a series: the handling histograms' began with these orders.
          const body = await until(
            async () =>
              (await (
                await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`)
              ).json()) as { status: string; error?: string; data?: { result: unknown[] } },
            (answer) => answer.status !== 'success' || answer.data!.result.length > 0,
            { timeoutMs: 15_000, everyMs: 500 },
          );
          if (body.status !== 'success' || body.data!.result.length === 0)
            unanswered.push(`${panel.title}: ${body.error ?? 'no series'} (${promql})`);
        }
      }
      expect(dashboard.panels.length).toBeGreaterThan(10);
      expect(unanswered).toEqual([]);
    });

    describeWithChromium('the Grafana dashboard drawn in Chromium', () => {
      it('draws every panel from its queries over the run, a line per series, as the README shows it', async () => {
        // A few more orders, one declined, spread over some seconds: the panels show change.
        const user = await api('POST', '/users', { name: 'Graf Ana', email: 'grafana@example.com' });
        const product = await api('POST', '/products', { sku: 'PROM-2', name: 'Panel tea', priceCents: 250 });
        await api('POST', `/inventory/${product.body.id}/restock`, { quantity: 50 });
        for (let i = 0; i < 8; i++) {
          const placed = await api('POST', '/orders', {
            userId: user.body.id,
            items: [{ productId: product.body.id, quantity: 1 }],
            payment: { token: i === 3 ? 'tok_declined' : 'tok_visa' },
          });
          expect(placed.status).toBe(202);
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        }
        // Two scrapes after the last order, so every rate has its last samples.
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        const end = Date.now() / 1000;
        const start = prometheusStartedAt;
        const dashboard = JSON.parse(readFileSync(grafanaDashboard, 'utf8')) as DashboardJson;
        const range = { job: 'shop', start, end, stepSeconds: 2, rateInterval: '15s' };
        const panels = await queryPanels(dashboard, prometheusUrl, range);
        expect(
          panels
            .filter((panel) => !postgresOnly.has(panel.title) && panel.series.length === 0)
            .map((p) => p.title),
        ).toEqual([]);

        const browser = await launchChromium();
        try {
          const page = await browser.newPage({ viewport: { width: 1420, height: 900 } });
          await page.setContent(previewPage(dashboard, panels, range));
          const drawn = await page.$$eval('section[data-panel]', (sections) =>
            sections.map((section) => ({
              title: section.getAttribute('data-panel'),
              lines: section.querySelectorAll('polyline').length,
            })),
          );
          expect(drawn).toHaveLength(dashboard.panels.length);
          for (const { title, lines } of drawn) {
            if (!postgresOnly.has(title!)) expect(lines, title!).toBeGreaterThan(0);
          }
          const path = process.env.UPDATE_SCREENSHOTS
            ? fileURLToPath(new URL('../../../../docs/screenshots/grafana-dashboard.png', import.meta.url))
            : join(directory, 'grafana-dashboard.png');
          await page.screenshot({ path, fullPage: true });
        } finally {
          await browser.close();
        }
      }, 90_000);
    });
  },
);
