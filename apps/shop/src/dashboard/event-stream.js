// The live event stream across services: newest first, filterable by text and service, with a
// pause so a row can be read while events keep arriving.
import { byId, clock, fill, h, shortId } from './dom.js';

const kept = 1000;
const shown = 200;
let events = [];
let paused = false;
let onFollow = () => {};

export function initEventStream({ follow }) {
  onFollow = follow;
  byId('event-filter').addEventListener('input', render);
  byId('event-service').addEventListener('change', render);
  byId('event-pause').addEventListener('change', (event) => {
    paused = event.target.checked;
    render();
  });
}

export function addEvents({ items, reset }) {
  events = reset ? [...items] : [...events, ...items].slice(-kept);
  if (!paused) render();
}

function matches(event, text, service) {
  if (service && event.service !== service) return false;
  if (!text) return true;
  return [event.type, event.streamId, event.correlationId ?? '', event.service].some((field) =>
    field.toLowerCase().includes(text),
  );
}

function render() {
  const text = byId('event-filter').value.trim().toLowerCase();
  const service = byId('event-service').value;
  const selected = events.filter((event) => matches(event, text, service));
  const rows = selected
    .slice(-shown)
    .reverse()
    .map((event) =>
      h(
        'tr',
        { 'data-type': event.type },
        h('td', { className: 'mono' }, clock(event.occurredAt)),
        h('td', {}, event.service),
        h('td', { className: 'mono' }, event.type),
        h(
          'td',
          { className: 'mono', title: event.streamId },
          `${shortId(event.streamId)} #${event.streamPosition}`,
        ),
        h(
          'td',
          { className: 'mono' },
          event.correlationId
            ? h(
                'button',
                {
                  className: 'link',
                  title: `Follow ${event.correlationId}`,
                  onclick: () => onFollow(event.correlationId),
                },
                shortId(event.correlationId),
              )
            : '—',
        ),
      ),
    );
  fill(byId('event-rows'), ...rows);
  fill(byId('event-count'), `${selected.length} of ${events.length} events${paused ? ' · paused' : ''}`);
}
