// The outbox backlog: messages committed but not yet on the broker, the oldest one's age, and a
// sparkline of the backlog over the last minute, kept by the page that samples it.
import { duration, h, s } from './dom.js';

const samplesKept = 120;

/** The backlog over the last minute, newest at the right: a filled area over a baseline. */
export function sparkline(values) {
  const width = 140;
  const height = 28;
  const highest = Math.max(1, ...values);
  const step = width / Math.max(1, samplesKept - 1);
  const start = width - (values.length - 1) * step;
  const y = (value) => height - 3 - (value / highest) * (height - 8);
  const points = values.map((value, index) => `${(start + index * step).toFixed(1)},${y(value).toFixed(1)}`);
  const last = values.at(-1) ?? 0;
  return s(
    'svg',
    {
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      class: 'sparkline',
      role: 'img',
      'aria-label': `backlog over the last minute: now ${last}, at most ${Math.max(0, ...values)}`,
    },
    s('line', { x1: 0, x2: width, y1: height - 3, y2: height - 3, class: 'sparkline-base' }),
    values.length > 1
      ? s('polygon', {
          points: `${start},${height - 3} ${points.join(' ')} ${width},${height - 3}`,
          class: 'sparkline-area',
        })
      : null,
    s('polyline', { points: points.join(' '), fill: 'none' }),
    s('circle', { cx: width - 1.5, cy: y(last), r: 2.5, class: 'sparkline-now' }),
  );
}

export const outboxColumns = ['service', 'backlog', 'oldest', 'last minute'];

/** Keeps each service's recent backlog samples, and draws a row per service from them. */
export class OutboxBacklog {
  #history = new Map();

  /** Takes one sample per service (`{ name, outbox: { count, oldestAgeMs } }`) and returns the rows. */
  rows(services) {
    return services.map((service) => {
      const samples = this.#history.get(service.name) ?? [];
      samples.push(service.outbox?.count ?? 0);
      if (samples.length > samplesKept) samples.shift();
      this.#history.set(service.name, samples);
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
  }
}
