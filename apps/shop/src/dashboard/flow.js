// One flow (correlation id) across every service, as swimlanes: a column per service, a row per
// thing that happened, in time order. Saga steps and the events each service stored in reaction,
// choreographed ones included (e.g. inventory selling stock when orders.OrderConfirmed arrives).
// Below them, the flow's trace as a waterfall, drawn by @causeway/admin's view (every shop process
// mounts the package at /causeway) from the spans the gateway gathers from every process.

import { byId, clock, duration, fill, h, pill } from '/causeway/dom.js';
import { traceWaterfall } from '/causeway/waterfall.js';
import { api, toast } from './api.js';

const serviceOrder = ['gateway', 'users', 'catalog', 'orders', 'inventory', 'payments', 'shipping', 'query'];
let followed = null;
let refresh = null;
/** The trace drawn under the followed flow: its first, or the one picked in the table. */
let shownTrace = null;

export function initFlow() {
  byId('flow-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = byId('flow-id').value.trim();
    if (id) followFlow(id);
  });
}

export function followFlow(correlationId) {
  if (correlationId !== followed) shownTrace = null;
  followed = correlationId;
  byId('flow-id').value = correlationId;
  void loadFlow();
}

/** New events of the followed flow: fetch it again (at most every 300 ms). */
export function noticeEvents(items) {
  if (!followed || !items.some((event) => event.correlationId === followed)) return;
  if (refresh) return;
  refresh = setTimeout(() => {
    refresh = null;
    void loadFlow();
  }, 300);
}

async function loadFlow() {
  const id = followed;
  try {
    const flow = await api('GET', `/admin/flows/${encodeURIComponent(id)}`);
    if (id !== followed) return;
    const traces = [...new Set(flow.entries.map((entry) => entry.traceId).filter(Boolean))];
    if (!traces.includes(shownTrace)) shownTrace = traces[0] ?? null;
    const trace = shownTrace ? await api('GET', `/admin/traces/${shownTrace}`) : null;
    if (id === followed) render(flow, trace);
  } catch (error) {
    toast(`flow ${id}: ${error.message}`, 'error');
  }
}

function entryChip(entry, byEventId) {
  if (entry.kind === 'event') {
    const cause = entry.causationId ? byEventId.get(entry.causationId) : undefined;
    return h(
      'div',
      { className: 'chip-event', title: `${entry.type} on ${entry.streamId}` },
      h('div', { className: 'mono' }, entry.type),
      h('div', { className: 'muted small' }, entry.streamId, cause ? ` · reacting to ${cause.type}` : ''),
    );
  }
  const compensation = entry.kind === 'compensation';
  return h(
    'div',
    { className: `chip-step ${compensation ? 'chip-compensation' : ''}` },
    h('div', {}, compensation ? `↩ compensate ${entry.step}` : `▶ ${entry.step}`, ' ', pill(entry.status)),
    h(
      'div',
      { className: 'muted small' },
      `${entry.sagaName} · ${entry.attempts} attempt${entry.attempts === 1 ? '' : 's'}`,
      entry.error ? ` · ${entry.error}` : '',
    ),
  );
}

/** The first characters of a trace id, a button that draws that trace below. */
function traceCell(entry) {
  if (!entry.traceId) return h('td', {});
  return h(
    'td',
    {},
    h(
      'button',
      {
        className: `link mono${entry.traceId === shownTrace ? ' current' : ''}`,
        title: `draw trace ${entry.traceId}`,
        onclick: () => {
          shownTrace = entry.traceId;
          void loadFlow();
        },
      },
      entry.traceId.slice(0, 8),
    ),
  );
}

function render(flow, trace) {
  const traced = flow.entries.some((entry) => entry.traceId);
  const services = serviceOrder.filter((service) => flow.entries.some((entry) => entry.service === service));
  const byEventId = new Map(
    flow.entries.filter((entry) => entry.kind === 'event').map((entry) => [entry.id, entry]),
  );
  const start = flow.entries.length ? Date.parse(flow.entries[0].at) : 0;
  const table = h(
    'table',
    { className: 'table swimlanes', 'data-testid': 'flow-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'time'),
        ...services.map((service) => h('th', {}, service)),
        traced ? h('th', {}, 'trace') : null,
      ),
    ),
    h(
      'tbody',
      {},
      ...flow.entries.map((entry) =>
        h(
          'tr',
          { 'data-service': entry.service, 'data-kind': entry.kind },
          h(
            'td',
            { className: 'mono nowrap' },
            clock(entry.at),
            h('div', { className: 'muted small' }, `+${duration(Date.parse(entry.at) - start)}`),
          ),
          ...services.map((service) =>
            h('td', {}, service === entry.service ? entryChip(entry, byEventId) : null),
          ),
          traced ? traceCell(entry) : null,
        ),
      ),
    ),
  );
  const summary = `${flow.entries.length} entries in ${services.length} service${services.length === 1 ? '' : 's'}${
    flow.partial ? ` · not answering: ${flow.partial.join(', ')}` : ''
  }`;
  fill(
    byId('flow-view'),
    h('p', { className: 'muted' }, summary),
    flow.entries.length
      ? table
      : h('p', { className: 'empty' }, 'Nothing recorded under this correlation id.'),
    trace ? traceWaterfall(trace, h) : null,
    trace?.partial
      ? h('p', { className: 'muted' }, `spans not gathered from: ${trace.partial.join(', ')}`)
      : null,
  );
}
