// The analytics service's lakehouse: the model DAG with each model's last run and tests, how far
// behind each layer and source is, gold's sales as a bar chart, and the changes held out of
// silver with their reasons. Read from /api/analytics every 2 s, and only while the panel is on
// screen (the feed does not carry it: the models' answers come from DuckDB, not the overviews).

import { ago, byId, clock, duration, fill, h, shortId } from '/causeway/dom.js';
import { act, api, toast } from './api.js';
import { renderModelDag } from './model-dag.js';
import { drawer, pollWhileOnScreen } from './poller.js';
import { money, renderSalesChart } from './sales-chart.js';

const pollMs = 2_000;
const rejectedShown = 50;
const layers = ['bronze', 'silver', 'gold'];
const draw = drawer();
let refresh = async () => {};

export function initAnalytics() {
  ({ refresh } = pollWhileOnScreen(byId('analytics'), read, pollMs));
  byId('sales-group-by').addEventListener('change', () => void refresh());
  byId('analytics-run').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      const { runId } = await api('POST', '/analytics/runs', undefined, { admin: true });
      toast(`Model run ${shortId(runId)} started`);
      await refresh();
    }),
  );
}

/** Reads every part once and draws what changed. */
async function read() {
  const groupBy = byId('sales-group-by').value;
  try {
    const [models, freshness, sales, rejected] = await Promise.all([
      api('GET', '/analytics/models'),
      api('GET', '/analytics/freshness'),
      api('GET', `/analytics/sales?groupBy=${groupBy}`),
      api('GET', `/analytics/rejected?limit=${rejectedShown}`),
    ]);
    draw('models', models, () => renderModelDag(byId('analytics-dag'), models.models));
    draw('freshness', freshness, () => renderFreshness(freshness));
    // The switch may have moved while the answer was on its way: the next read draws that one.
    if (groupBy === byId('sales-group-by').value) {
      draw('sales', { ...sales, groupBy }, () => renderSales(sales, groupBy));
    }
    draw('rejected', rejected, () => renderRejected(rejected));
    fill(byId('analytics-status'), `read ${clock(new Date().toISOString())}`);
  } catch (error) {
    fill(byId('analytics-status'), h('span', { className: 'warning' }, `analytics: ${error.message}`));
  }
}

function renderFreshness({ layers: byLayer, sources }) {
  const lag = (ms) => h('span', { className: ms > 10_000 ? 'lagging' : '' }, duration(ms));
  fill(
    byId('freshness-layers'),
    ...layers.map((layer) =>
      h(
        'tr',
        { 'data-layer': layer },
        h('td', {}, layer),
        h('td', { className: 'mono', 'data-testid': `freshness-${layer}` }, lag(byLayer[layer].lagMs)),
        h('td', { className: 'muted' }, ago(byLayer[layer].updatedAt)),
      ),
    ),
  );
  fill(
    byId('freshness-sources'),
    ...sources.map((source) =>
      h(
        'tr',
        { 'data-source': source.service },
        h('td', {}, source.service),
        h(
          'td',
          { className: 'mono', 'data-testid': `freshness-source-${source.service}` },
          lag(source.lagMs),
        ),
      ),
    ),
  );
}

const singular = { day: 'day', product: 'product', country: 'country' };
const plural = { day: 'days', product: 'products', country: 'countries' };

function renderSales(sales, groupBy) {
  renderSalesChart(byId('sales-chart'), { rows: sales.rows, groupBy });
  const revenue = sales.rows.reduce((sum, row) => sum + row.revenueCents, 0);
  const orders =
    groupBy === 'product' ? '' : ` · ${sales.rows.reduce((sum, row) => sum + row.orders, 0)} orders`;
  fill(
    byId('sales-summary'),
    sales.rows.length
      ? `${sales.rows.length} ${(sales.rows.length === 1 ? singular : plural)[groupBy]} · revenue ${money(revenue)}${orders} · gold as of ${clock(sales.asOf)}`
      : '',
  );
}

function renderRejected({ total, rows }) {
  fill(
    byId('rejected-total'),
    h('span', { 'data-testid': 'rejected-total', 'data-total': total }, String(total)),
    total > rows.length ? ` held out, the newest ${rows.length} shown` : ' held out',
  );
  fill(
    byId('rejected-rows'),
    ...(rows.length
      ? rows.map((row) =>
          h(
            'tr',
            { 'data-testid': 'rejected-row', 'data-event-id': row.eventId ?? '' },
            h('td', { className: 'mono nowrap' }, clock(row.occurredAt)),
            h('td', {}, row.service),
            h('td', { className: 'mono' }, row.eventType ?? '—'),
            h('td', { className: 'mono', title: row.eventId ?? '' }, shortId(row.eventId)),
            h('td', { className: 'reason', title: row.reason, 'data-testid': 'rejected-reason' }, row.reason),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 5, className: 'empty' }, 'Every change fits its schema.'))]),
  );
}
