// The query service's projection: per source its position against the head and its lag (events
// and seconds), the read models' sizes, pause / resume / rebuild with progress, and the
// consistency window (write → visible in the read model) as a histogram.
import { act, api, toast } from './api.js';
import { byId, clock, duration, fill, h, pill } from './dom.js';

export function initProjections() {
  const action = (name, message) => (event) =>
    act(event.currentTarget, async () => {
      await api('POST', `/admin/projections/${name}`, undefined, { admin: true });
      toast(message);
    });
  byId('projection-pause').addEventListener('click', action('pause', 'Projection paused: the lag now grows'));
  byId('projection-resume').addEventListener('click', action('resume', 'Projection resumed'));
  byId('projection-rebuild').addEventListener(
    'click',
    action('rebuild', 'Rebuild started: read models emptied and replayed from the sources'),
  );
}

const number = (value) => (value === null || value === undefined ? '—' : String(value));
const seconds = (value) => (value === null || value === undefined ? '—' : `${value.toFixed(1)} s`);

export function updateProjections(projection) {
  if (projection.unavailable) {
    fill(byId('projection-status'), pill('down'), ` ${projection.unavailable}`);
    return;
  }
  fill(byId('projection-status'), pill(projection.status), ` ${projection.name}`);
  byId('projection-pause').hidden = projection.status === 'paused';
  byId('projection-resume').hidden = projection.status !== 'paused';
  renderRebuild(projection.rebuild);
  fill(
    byId('projection-rows'),
    ...projection.sources.map((source) =>
      h(
        'tr',
        { 'data-source': source.service },
        h('td', {}, source.service),
        h('td', { className: 'mono' }, `${number(source.position)} / ${number(source.head)}`),
        h(
          'td',
          {
            className: `mono ${source.lagEvents ? 'lagging' : ''}`,
            'data-testid': `lag-events-${source.service}`,
          },
          number(source.lagEvents),
        ),
        h(
          'td',
          {
            className: `mono ${source.lagSeconds ? 'lagging' : ''}`,
            'data-testid': `lag-seconds-${source.service}`,
          },
          seconds(source.lagSeconds),
        ),
        h('td', { className: 'mono' }, source.error ? source.error : clock(source.lastAppliedAt)),
      ),
    ),
  );
  fill(
    byId('read-models'),
    ...projection.readModels.map((model) =>
      h('span', { className: 'chip' }, `${model.name} `, h('b', {}, String(model.rows))),
    ),
  );
  renderHistogram(projection.consistency);
}

function renderRebuild(rebuild) {
  const area = byId('projection-rebuild-progress');
  if (!rebuild) return fill(area);
  const fraction = rebuild.total ? rebuild.replayed / rebuild.total : 1;
  const took = rebuild.finishedAt
    ? Date.parse(rebuild.finishedAt) - Date.parse(rebuild.startedAt)
    : Date.now() - Date.parse(rebuild.startedAt);
  fill(
    area,
    h('progress', { max: 1, value: Math.min(1, fraction), 'data-testid': 'rebuild-progress' }),
    h(
      'span',
      { className: 'mono small' },
      ` rebuild ${rebuild.status}: ${rebuild.replayed} of ${rebuild.total} events (${Math.round(fraction * 100)}%) in ${duration(took)}`,
    ),
    rebuild.waiting ? h('div', { className: 'warning small' }, rebuild.waiting) : null,
  );
}

function renderHistogram(histogram) {
  const highest = Math.max(1, ...histogram.buckets.map((bucket) => bucket.count));
  const label = (bucket) => (bucket.upToMs === null ? '> 30 s' : `≤ ${duration(bucket.upToMs)}`);
  fill(
    byId('consistency-histogram'),
    ...histogram.buckets.map((bucket) =>
      h(
        'div',
        { className: 'histogram-column', title: `${bucket.count} writes visible ${label(bucket)}` },
        h('span', { className: 'histogram-count mono' }, bucket.count ? String(bucket.count) : ''),
        h('span', { className: 'histogram-bar', style: { height: `${(bucket.count / highest) * 100}%` } }),
        h('span', { className: 'histogram-label' }, label(bucket)),
      ),
    ),
  );
  fill(
    byId('consistency-summary'),
    histogram.count
      ? `${histogram.count} writes measured · p50 ${duration(histogram.p50Ms)} · p95 ${duration(histogram.p95Ms)} · p99 ${duration(histogram.p99Ms)} · max ${duration(histogram.maxMs)} (last ${histogram.recentSamples})`
      : 'No writes measured yet: place an order.',
  );
}
