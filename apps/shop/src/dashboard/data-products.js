// The catalog of data products: each domain's product with its owner, ports and contracts, its
// freshness against its SLA (a breach stands out), its contracts' quality rules as analytics last
// ran them, the lineage of each gold table (the silver models it is built from and the domains
// feeding them, from the model DAG and the models' tags), and the reverse ETL runs that push gold
// back into the services. Read every 3 s while on screen.

import { ago, byId, clock, duration, fill, h, pill, shortId } from '/causeway/dom.js';
import { act, api, toast } from './api.js';
import { drawer, pollWhileOnScreen } from './poller.js';

const pollMs = 3_000;
const runsShown = 15;
const draw = drawer();

export function initDataProducts() {
  const { refresh } = pollWhileOnScreen(byId('data-products'), read, pollMs);
  byId('reverse-etl-run').addEventListener('click', (event) =>
    act(event.currentTarget, async () => {
      const run = await api('POST', '/analytics/reverse-etl/runs', {}, { admin: true });
      toast(`Reverse sync ${run.sync}: ${run.pushed} pushed`);
      await refresh();
    }),
  );
}

async function read() {
  const [products, models, reverseEtl] = await Promise.allSettled([
    api('GET', '/data-products'),
    api('GET', '/analytics/models'),
    api('GET', `/analytics/reverse-etl?limit=${runsShown}`),
  ]);
  if (products.status === 'fulfilled')
    draw('products', products.value, () => renderProducts(products.value.products));
  if (models.status === 'fulfilled') {
    const lineage = lineageOf(models.value.models);
    draw('lineage', lineage, () => renderLineage(lineage));
  }
  if (reverseEtl.status === 'fulfilled')
    draw('reverse-etl', reverseEtl.value, () => renderRuns(reverseEtl.value));
  const failed = [products, models, reverseEtl].find((answer) => answer.status === 'rejected');
  fill(
    byId('data-products-status'),
    failed
      ? h('span', { className: 'warning' }, failed.reason.message)
      : `read ${clock(new Date().toISOString())}`,
  );
}

/** Each gold model with the silver models it is built from and the domains whose data feeds them. */
export function lineageOf(models) {
  const byName = new Map(models.map((model) => [model.name, model]));
  const upstreamOf = (name, seen = new Set()) => {
    for (const parent of byName.get(name)?.dependsOn ?? []) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      upstreamOf(parent, seen);
    }
    return seen;
  };
  return models
    .filter((model) => model.layer === 'gold')
    .map((model) => {
      const upstream = [...upstreamOf(model.name)].map((name) => byName.get(name)).filter(Boolean);
      return {
        gold: model.name,
        silver: upstream
          .filter((each) => each.layer === 'silver')
          .map((each) => each.name)
          .sort(),
        domains: [...new Set(upstream.flatMap((each) => each.tags ?? []))].sort(),
      };
    });
}

export function freshnessCell(product) {
  const sla = product.slaFreshnessMs === null ? 'no SLA' : `SLA ${duration(product.slaFreshnessMs)}`;
  if (!product.freshness)
    return h('td', { className: 'muted', 'data-testid': 'product-freshness' }, `unknown · ${sla}`);
  const { lagMs, met } = product.freshness;
  return h(
    'td',
    { 'data-testid': 'product-freshness', 'data-met': String(met) },
    h('span', { className: met ? 'mono' : 'mono lagging' }, duration(lagMs)),
    ' · ',
    met ? h('span', { className: 'muted' }, sla) : h('span', { className: 'lagging' }, `${sla} breached`),
  );
}

function qualityCell(product) {
  const { quality } = product;
  if (!quality)
    return h('td', { className: 'muted', 'data-testid': 'product-quality' }, 'no rule checked yet');
  const bad = quality.checks.filter((check) => check.status !== 'pass');
  return h(
    'td',
    { 'data-testid': 'product-quality', 'data-status': quality.status },
    pill(quality.status),
    ` ${quality.passed}/${quality.passed + quality.failed} rules hold`,
    h('span', { className: 'muted small' }, ` · ${ago(quality.checkedAt)}`),
    bad.length
      ? h(
          'ul',
          { className: 'checks' },
          ...bad.map((check) =>
            h(
              'li',
              { title: check.error ?? '' },
              `${check.port}${check.column ? `.${check.column}` : ''}: ${check.name} — `,
              h(
                'span',
                { className: 'mono' },
                check.value === null ? 'error' : `${check.value}, expected ${check.expected}`,
              ),
            ),
          ),
        )
      : null,
  );
}

function renderProducts(products) {
  fill(
    byId('data-product-rows'),
    ...products.map((product) =>
      h(
        'tr',
        { 'data-testid': 'data-product', 'data-product': product.id },
        h('td', {}, h('strong', {}, product.id), h('div', { className: 'muted small' }, product.status)),
        h('td', { className: 'small' }, product.owner),
        h(
          'td',
          {},
          ...product.outputPorts.map((port) =>
            h(
              'div',
              {},
              h('span', { className: 'mono' }, port.name),
              ' ',
              h(
                'a',
                {
                  href: `/api/data-products/${product.id}/contract`,
                  target: '_blank',
                  'data-testid': 'contract-link',
                },
                port.contractId,
              ),
            ),
          ),
        ),
        freshnessCell(product),
        qualityCell(product),
      ),
    ),
  );
}

function renderLineage(lineage) {
  fill(
    byId('lineage-rows'),
    ...lineage.map((row) =>
      h(
        'tr',
        { 'data-testid': 'lineage', 'data-gold': row.gold },
        h('td', { className: 'mono' }, row.domains.join(', ') || '—'),
        h('td', { className: 'mono' }, row.silver.join(', ') || '—'),
        h('td', { className: 'mono' }, h('strong', {}, row.gold)),
      ),
    ),
  );
}

function renderRuns({ syncs, runs }) {
  fill(
    byId('reverse-etl-syncs'),
    syncs
      .map((sync) =>
        'everyMs' in sync.schedule
          ? `${sync.name}: every ${duration(sync.schedule.everyMs)}`
          : `${sync.name}: after model runs, at most every ${duration(sync.schedule.minIntervalMs ?? 0)}`,
      )
      .join(' · '),
  );
  fill(
    byId('reverse-etl-rows'),
    ...(runs.length
      ? runs.map((run) =>
          h(
            'tr',
            { 'data-testid': 'reverse-etl-run', 'data-status': run.status },
            h('td', { className: 'mono nowrap' }, clock(run.startedAt)),
            h('td', {}, run.sync),
            h('td', {}, pill(run.status)),
            h('td', { className: 'mono' }, run.rows ?? '—'),
            h('td', { className: 'mono', 'data-testid': 'reverse-etl-pushed' }, run.pushed),
            h(
              'td',
              { className: 'reason', title: run.error ?? '' },
              run.error ?? (run.replayOf ? `replay of ${shortId(run.replayOf)}` : ''),
            ),
          ),
        )
      : [
          h(
            'tr',
            {},
            h(
              'td',
              { colspan: 6, className: 'empty' },
              'No run yet: the first one follows the first model run.',
            ),
          ),
        ]),
  );
}
