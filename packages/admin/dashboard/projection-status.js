// A projection as its runner reports it (core's ProjectionStatus): per source its position against
// the head and its lag in events and seconds, and a rebuild's progress.
import { clock, duration, h } from './dom.js';

const number = (value) => (value === null || value === undefined ? '—' : String(value));
const seconds = (value) => (value === null || value === undefined ? '—' : `${value.toFixed(1)} s`);

export const sourceColumns = ['source', 'position', 'behind (events)', 'behind (time)', 'last applied'];

/** A row per source: `{ name, position, head, lagEvents, lagSeconds, lastAppliedAt, error }`. */
export function projectionSourceRows(sources) {
  return sources.map((source) =>
    h(
      'tr',
      { 'data-source': source.name },
      h('td', {}, source.name),
      h('td', { className: 'mono' }, `${number(source.position)} / ${number(source.head)}`),
      h(
        'td',
        {
          className: `mono ${source.lagEvents ? 'lagging' : ''}`,
          'data-testid': `lag-events-${source.name}`,
        },
        number(source.lagEvents),
      ),
      h(
        'td',
        {
          className: `mono ${source.lagSeconds ? 'lagging' : ''}`,
          'data-testid': `lag-seconds-${source.name}`,
        },
        seconds(source.lagSeconds),
      ),
      h('td', { className: 'mono' }, source.error ? source.error : clock(source.lastAppliedAt)),
    ),
  );
}

/** A rebuild's progress bar and line (`{ status, startedAt, finishedAt, processed, total, waiting, error }`), or nothing. */
export function rebuildProgress(rebuild) {
  if (!rebuild) return [];
  const fraction = rebuild.total ? rebuild.processed / rebuild.total : 1;
  const took = rebuild.finishedAt
    ? Date.parse(rebuild.finishedAt) - Date.parse(rebuild.startedAt)
    : Date.now() - Date.parse(rebuild.startedAt);
  const trouble = rebuild.waiting ?? rebuild.error;
  return [
    h('progress', { max: 1, value: Math.min(1, fraction), 'data-testid': 'rebuild-progress' }),
    h(
      'span',
      { className: 'mono small' },
      ` rebuild ${rebuild.status}: ${rebuild.processed} of ${rebuild.total} events (${Math.round(fraction * 100)}%) in ${duration(took)}`,
    ),
    trouble ? h('div', { className: 'warning small' }, trouble) : null,
  ];
}
