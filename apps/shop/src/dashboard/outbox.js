// Outbox backlog per service: messages committed but not yet on the broker, the oldest one's
// age, and a sparkline of the backlog over the last minute (kept in this page).
import { byId, duration, fill, h, s } from './dom.js';

const samplesKept = 120;
const history = new Map();

function sparkline(values) {
  const width = 140;
  const height = 26;
  const highest = Math.max(1, ...values);
  const points = values
    .map(
      (value, index) =>
        `${(index / Math.max(1, samplesKept - 1)) * width},${height - (value / highest) * (height - 2) - 1}`,
    )
    .join(' ');
  return s(
    'svg',
    { width, height, viewBox: `0 0 ${width} ${height}`, class: 'sparkline' },
    s('polyline', { points, fill: 'none' }),
  );
}

export function updateOutbox(services) {
  const rows = services.map((service) => {
    const samples = history.get(service.name) ?? [];
    samples.push(service.outbox?.count ?? 0);
    if (samples.length > samplesKept) samples.shift();
    history.set(service.name, samples);
    const backlog = service.outbox?.count;
    return h(
      'tr',
      { 'data-service': service.name },
      h('td', {}, service.name),
      h(
        'td',
        { className: `mono ${backlog ? 'lagging' : ''}`, 'data-testid': `outbox-${service.name}` },
        backlog === undefined ? '—' : String(backlog),
      ),
      h('td', { className: 'mono' }, backlog ? duration(service.outbox.oldestAgeMs) : '—'),
      h('td', {}, sparkline(samples)),
    );
  });
  fill(byId('outbox-rows'), ...rows);
}
