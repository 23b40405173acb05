// One Causeway service's dashboard: a view per hash (#overview, #sagas, ...), each read from the
// service's admin API and read again every two seconds while it is on screen. Plain DOM, no build.
import { deadLetterColumns, deadLetterRows } from './dead-letter-table.js';
import { byId as $, clock, fill, h, pill } from './dom.js';
import { eventColumns, eventRows } from './event-table.js';
import { OutboxBacklog, outboxColumns } from './outbox-backlog.js';
import { projectionSourceRows, rebuildProgress, sourceColumns } from './projection-status.js';
import { sagaDiagramView } from './saga-diagram.js';
import { sagaColumns, sagaRows } from './saga-table.js';
import { traceWaterfall } from './waterfall.js';

const base = document.body.dataset.base;
const tokenKey = `causeway.token.${base}`;
const outbox = new OutboxBacklog();

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(method, path) {
  const token = localStorage.getItem(tokenKey);
  const response = await fetch(`${base}/api/${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body?.detail ?? response.statusText);
  return body;
}

function notice(text) {
  $('notice').hidden = !text;
  $('notice').textContent = text ?? '';
}

function table(columns, rows, empty) {
  return h(
    'table',
    { className: 'table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((column) => h('th', {}, column)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length ? rows : h('tr', {}, h('td', { colspan: columns.length, className: 'empty' }, empty)),
    ),
  );
}

async function act(button, method, path, done) {
  button.disabled = true;
  try {
    await api(method, path);
    notice(null);
    await done?.();
  } catch (error) {
    notice(error.message);
  } finally {
    button.disabled = false;
  }
}

const views = {
  async overview(section) {
    const overview = await api('GET', 'overview');
    $('service').textContent = overview.service;
    const counts = Object.entries(overview.sagas).map(([status, n]) => h('li', {}, pill(status), ` ${n}`));
    fill(
      section,
      h('h2', {}, 'Overview'),
      h(
        'dl',
        { className: 'facts' },
        h('dt', {}, 'events'),
        h(
          'dd',
          { 'data-testid': 'events' },
          `${overview.events.events} in ${overview.events.streams} streams`,
        ),
        h('dt', {}, 'dead letters'),
        h('dd', { 'data-testid': 'dead' }, `${overview.deadLetters.dead} waiting`),
        h('dt', {}, 'sagas'),
        h('dd', {}, h('ul', { className: 'chips' }, counts)),
      ),
      h('h3', {}, 'Outbox'),
      table(outboxColumns, outbox.rows([{ name: overview.service, outbox: overview.outbox }]), ''),
    );
  },

  async sagas(section) {
    const { counts, items } = await api('GET', 'sagas');
    const summary = Object.entries(counts)
      .map(([status, n]) => `${status} ${n}`)
      .join(' · ');
    fill(
      section,
      h('h2', {}, 'Sagas ', h('span', { className: 'muted' }, summary)),
      table(sagaColumns, sagaRows(items, { selected: selectedSaga, onSelect: showSaga }), 'No sagas.'),
      h('div', { id: 'saga-detail' }),
    );
    if (selectedSaga) await showSaga(selectedSaga);
  },

  async 'dead-letters'(section) {
    const { items } = await api('GET', 'dead-letters');
    const rows = deadLetterRows(items, {
      expanded: expandedLetters,
      onToggle: (id) => {
        if (!expandedLetters.delete(id)) expandedLetters.add(id);
        void refresh();
      },
      onRedrive: (entry, button) => act(button, 'POST', `dead-letters/${entry.sequence}/redrive`, refresh),
      onDiscard: (entry, button) => act(button, 'DELETE', `dead-letters/${entry.sequence}`, refresh),
    });
    fill(section, h('h2', {}, 'Dead letters'), table(deadLetterColumns, rows, 'The queue is empty.'));
  },

  async flow(section) {
    const id = flowId;
    const entries = id ? (await api('GET', `flows/${encodeURIComponent(id)}`)).entries : [];
    // The flow's traces, as its entries carry them: the chosen one (else the first) as a waterfall.
    const traceIds = [...new Set(entries.map((entry) => entry.traceId).filter(Boolean))];
    const traceId = traceIds.includes(selectedTrace) ? selectedTrace : traceIds[0];
    const trace = traceId ? await api('GET', `traces/${traceId}`) : null;
    const rows = entries.map((entry) =>
      h(
        'tr',
        { 'data-kind': entry.kind, 'data-trace': entry.traceId },
        h('td', { className: 'mono' }, clock(entry.at)),
        h('td', {}, entry.kind),
        h('td', {}, entry.kind === 'event' ? entry.type : `${entry.sagaName} ${entry.step}`),
        h('td', {}, entry.kind === 'event' ? entry.streamId : pill(entry.status)),
        h('td', { className: 'reason' }, entry.kind === 'event' ? '' : (entry.error ?? '')),
        h(
          'td',
          {
            className: `mono${entry.traceId ? ' clickable' : ''}`,
            title: entry.traceId,
            onclick: () => showTrace(entry.traceId),
          },
          entry.traceId ? entry.traceId.slice(0, 8) : '',
        ),
      ),
    );
    fill(
      section,
      h('h2', {}, 'Flow ', h('span', { className: 'muted mono' }, id ?? '')),
      id
        ? table(
            ['at', 'kind', 'what', 'where', 'error', 'trace'],
            rows,
            'Nothing carries this correlation id.',
          )
        : h('p', { className: 'empty' }, 'Find a correlation id above.'),
      trace ? traceWaterfall(trace, h) : null,
    );
  },

  async events(section) {
    const { head, items } = await api('GET', 'events?limit=50');
    fill(
      section,
      h('h2', {}, 'Events ', h('span', { className: 'muted' }, `head ${head}`)),
      table(eventColumns, eventRows(items, { onFollow: follow }), 'No events.'),
    );
  },

  async projections(section) {
    const { items } = await api('GET', 'projections');
    const actions = (status) =>
      ['pause', 'resume', 'rebuild'].map((verb) =>
        h(
          'button',
          {
            onclick: (event) =>
              act(event.target, 'POST', `projections/${encodeURIComponent(status.name)}/${verb}`, refresh),
          },
          verb,
        ),
      );
    fill(
      section,
      h('h2', {}, 'Projections'),
      items.length ? null : h('p', { className: 'empty' }, 'No projections here.'),
      items.map((status) =>
        h(
          'div',
          { 'data-projection': status.name, className: 'projection' },
          h('h3', {}, `${status.name} `, pill(status.state), ' ', actions(status)),
          status.lastError ? h('p', { className: 'reason' }, status.lastError) : null,
          table(sourceColumns, projectionSourceRows(status.sources), 'No sources.'),
          h('div', {}, rebuildProgress(status.rebuild)),
        ),
      ),
    );
  },
};

let selectedSaga = null;
let flowId = null;
let selectedTrace = null;
const expandedLetters = new Set();

async function showSaga(sagaId) {
  selectedSaga = sagaId;
  const saga = await api('GET', `sagas/${encodeURIComponent(sagaId)}`);
  fill(
    $('saga-detail'),
    h('h3', {}, `${saga.sagaName} `, h('span', { className: 'mono' }, saga.sagaId), ' ', pill(saga.status)),
    saga.reason ? h('p', { className: 'reason' }, saga.reason) : null,
    sagaDiagramView(saga.diagram),
    saga.status === 'dead'
      ? h(
          'button',
          {
            onclick: (event) =>
              act(event.target, 'POST', `sagas/${encodeURIComponent(saga.sagaId)}/redrive`, refresh),
          },
          'Redrive saga',
        )
      : null,
  );
}

function showTrace(traceId) {
  if (!traceId) return;
  selectedTrace = traceId;
  void refresh();
}

function follow(correlationId) {
  if (!correlationId) return;
  flowId = correlationId;
  location.hash = '#flow';
}

const current = () => (location.hash.slice(1) in views ? location.hash.slice(1) : 'overview');

async function refresh() {
  const name = current();
  for (const section of document.querySelectorAll('[data-view]'))
    section.hidden = section.dataset.view !== name;
  for (const link of document.querySelectorAll('nav a'))
    link.classList.toggle('active', link.hash === `#${name}`);
  try {
    await views[name]($(`view-${name}`));
    notice(null);
  } catch (error) {
    notice(
      error.status === 401 || error.status === 403
        ? `${error.message}: enter a token above`
        : `Could not read ${name}: ${error.message}`,
    );
  }
}

$('token').value = localStorage.getItem(tokenKey) ?? '';
$('token').addEventListener('change', (event) => {
  const token = event.target.value.trim();
  if (token) localStorage.setItem(tokenKey, token);
  else localStorage.removeItem(tokenKey);
  void refresh();
});
$('find').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('find-id').value.trim();
  if (!id) return;
  flowId = id;
  selectedSaga = id;
  location.hash = '#sagas';
  void refresh();
});
window.addEventListener('hashchange', () => void refresh());
void refresh();
setInterval(() => {
  if (!document.hidden) void refresh();
}, 2000);
