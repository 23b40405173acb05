// One Causeway service's dashboard: a view per hash (#overview, #sagas, ...), each read from the
// service's admin API and read again every two seconds while it is on screen. Plain DOM, no build.
import { traceWaterfall } from './waterfall.js';

const base = document.body.dataset.base;
const tokenKey = `causeway.token.${base}`;
const $ = (id) => document.getElementById(id);

/** An element: h('td', { className: 'x' }, 'text', child, ...). */
function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'className' || key === 'textContent') element[key] = value;
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

const fill = (element, ...children) => element.replaceChildren(...children.flat());
const pill = (status) => h('span', { className: `pill status-${status}` }, status);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

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
        h('dt', {}, 'outbox'),
        h('dd', { 'data-testid': 'outbox' }, `${overview.outbox.count} unpublished`),
        h('dt', {}, 'dead letters'),
        h('dd', { 'data-testid': 'dead' }, `${overview.deadLetters.dead} waiting`),
        h('dt', {}, 'sagas'),
        h('dd', {}, h('ul', { className: 'chips' }, counts)),
      ),
    );
  },

  async sagas(section) {
    const { counts, items } = await api('GET', 'sagas');
    const rows = items.map((saga) =>
      h(
        'tr',
        { 'data-saga': saga.sagaId, className: 'clickable', onclick: () => showSaga(saga.sagaId) },
        h('td', { className: 'mono' }, saga.sagaId),
        h('td', {}, saga.sagaName),
        h('td', {}, pill(saga.status)),
        h('td', { 'data-testid': 'step' }, saga.step ?? ''),
        h('td', { className: 'reason' }, saga.reason ?? ''),
      ),
    );
    const summary = Object.entries(counts)
      .map(([status, n]) => `${status} ${n}`)
      .join(' · ');
    fill(
      section,
      h('h2', {}, 'Sagas ', h('span', { className: 'muted' }, summary)),
      table(['saga', 'name', 'status', 'where', 'reason'], rows, 'No sagas.'),
      h('div', { id: 'saga-detail' }),
    );
    if (selectedSaga) await showSaga(selectedSaga);
  },

  async 'dead-letters'(section) {
    const { items } = await api('GET', 'dead-letters');
    const rows = items.map((entry) =>
      h(
        'tr',
        { 'data-testid': 'dead-letter', 'data-sequence': entry.sequence, 'data-status': entry.status },
        h('td', {}, String(entry.sequence)),
        h('td', {}, entry.consumer),
        h('td', {}, pill(entry.status)),
        h('td', {}, entry.message?.type ?? ''),
        h('td', {}, String(entry.attempts)),
        h('td', { className: 'reason' }, entry.reason),
        h(
          'td',
          {},
          entry.status === 'dead' || entry.status === 'parked'
            ? [
                h(
                  'button',
                  {
                    onclick: (event) =>
                      act(event.target, 'POST', `dead-letters/${entry.sequence}/redrive`, refresh),
                  },
                  'Redrive',
                ),
                h(
                  'button',
                  {
                    onclick: (event) =>
                      act(event.target, 'DELETE', `dead-letters/${entry.sequence}`, refresh),
                  },
                  'Discard',
                ),
              ]
            : null,
        ),
      ),
    );
    fill(
      section,
      h('h2', {}, 'Dead letters'),
      table(['#', 'consumer', 'status', 'type', 'attempts', 'reason', ''], rows, 'No dead letters.'),
    );
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
        h('td', { className: 'mono' }, time(entry.at)),
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
    const rows = items
      .slice()
      .reverse()
      .map((event) =>
        h(
          'tr',
          {},
          h('td', {}, String(event.globalPosition)),
          h('td', { className: 'mono' }, time(event.occurredAt)),
          h('td', {}, event.type),
          h('td', { className: 'mono' }, `${event.streamId}@${event.streamPosition}`),
          h(
            'td',
            { className: 'mono clickable', onclick: () => follow(event.correlationId) },
            event.correlationId ?? '',
          ),
        ),
      );
    fill(
      section,
      h('h2', {}, 'Events ', h('span', { className: 'muted' }, `head ${head}`)),
      table(['#', 'at', 'type', 'stream', 'correlation'], rows, 'No events.'),
    );
  },

  async projections(section) {
    const { items } = await api('GET', 'projections');
    const rows = items.map((status) =>
      h(
        'tr',
        { 'data-projection': status.name },
        h('td', {}, status.name),
        h('td', {}, pill(status.state)),
        h('td', {}, `${status.position} / ${status.head}`),
        h('td', {}, String(status.positionsBehind)),
        h(
          'td',
          {},
          status.rebuild
            ? `${status.rebuild.status} ${status.rebuild.processed}/${status.rebuild.total}`
            : '',
        ),
        h(
          'td',
          {},
          ['pause', 'resume', 'rebuild'].map((verb) =>
            h(
              'button',
              {
                onclick: (event) =>
                  act(
                    event.target,
                    'POST',
                    `projections/${encodeURIComponent(status.name)}/${verb}`,
                    refresh,
                  ),
              },
              verb,
            ),
          ),
        ),
      ),
    );
    fill(
      section,
      h('h2', {}, 'Projections'),
      table(['name', 'state', 'position', 'behind', 'rebuild', ''], rows, 'No projections here.'),
    );
  },
};

let selectedSaga = null;
let flowId = null;
let selectedTrace = null;

async function showSaga(sagaId) {
  selectedSaga = sagaId;
  const saga = await api('GET', `sagas/${encodeURIComponent(sagaId)}`);
  const step = (record, index) =>
    h(
      'li',
      { className: `step status-${record.status}`, 'data-step': record.name },
      h('b', {}, `${index + 1}. ${record.name}`),
      ' ',
      pill(record.status),
      ` ${record.attempts} attempt${record.attempts === 1 ? '' : 's'}`,
      record.compensationAttempts > 0 ? ` · compensated (${record.compensationAttempts})` : '',
      record.error ? h('div', { className: 'reason' }, record.error) : null,
    );
  fill(
    $('saga-detail'),
    h('h3', {}, `${saga.sagaName} `, h('span', { className: 'mono' }, saga.sagaId), ' ', pill(saga.status)),
    saga.reason ? h('p', { className: 'reason' }, saga.reason) : null,
    h('ol', { className: 'steps' }, saga.steps.map(step)),
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
