// The query service's projection: per source its position against the head and its lag (events
// and seconds), the read models' sizes, pause / resume / rebuild with progress, and the
// consistency window (write → visible in the read model) as a histogram.
import { byId, duration, fill, h, pill } from '/causeway/dom.js';
import { projectionSourceRows, rebuildProgress } from '/causeway/projection-status.js';
import { act, api, toast } from './api.js';

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

export function updateProjections(projection) {
  if (projection.unavailable) {
    fill(byId('projection-status'), pill('down'), ` ${projection.unavailable}`);
    return;
  }
  fill(byId('projection-status'), pill(projection.status), ` ${projection.name}`);
  byId('projection-pause').hidden = projection.status === 'paused';
  byId('projection-resume').hidden = projection.status !== 'paused';
  renderRebuild(projection.rebuild);
  // The query service names each source by its service, a rebuild's count `replayed`.
  fill(
    byId('projection-rows'),
    ...projectionSourceRows(
      projection.sources.map(({ service, ...source }) => ({ name: service, ...source })),
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
  fill(
    byId('projection-rebuild-progress'),
    ...rebuildProgress(rebuild && { ...rebuild, processed: rebuild.replayed }),
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
