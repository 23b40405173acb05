// The live event stream across services, in @causeway/admin's event rows: newest first, filterable by text and service, with a
// pause so a row can be read while events keep arriving.
import { byId, fill } from '/causeway/dom.js';
import { eventRows } from '/causeway/event-table.js';

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
  const rows = eventRows(selected.slice(-shown), { onFollow });
  fill(byId('event-rows'), ...rows);
  fill(byId('event-count'), `${selected.length} of ${events.length} events${paused ? ' · paused' : ''}`);
}
