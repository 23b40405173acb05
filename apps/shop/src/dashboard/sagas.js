// Sagas: counts by status, the list (recent, or one status), and one saga as a step diagram:
// the forward steps left to right, the compensations under the steps they undo, running back
// right to left, each with status, attempts, duration and error; a time bar chart below.
import { act, api, toast } from './api.js';
import { byId, clock, duration, fill, h, pill, shortId } from './dom.js';

const statuses = ['running', 'compensating', 'completed', 'compensated', 'dead'];
const live = new Set(['running', 'compensating']);
let filter = null;
let recent = { counts: {}, items: [] };
let selected = null;
let detail = null;
let onFollow = () => {};

export function initSagas({ follow }) {
  onFollow = follow;
}

export function updateSagas(topic) {
  recent = topic;
  renderCounts();
  if (!filter) renderList(recent.items);
  if (!selected) return;
  const summary = recent.items.find((item) => item.sagaId === selected);
  // Refetched while it runs, and whenever its row changed.
  if (!detail || live.has(detail.saga.status) || (summary && summary.updatedAt !== detail.saga.updatedAt)) {
    void loadDetail();
  }
}

function renderCounts() {
  const total = statuses.reduce((sum, status) => sum + (recent.counts[status] ?? 0), 0);
  const chip = (status, count) =>
    h(
      'button',
      {
        className: `chip ${filter === status ? 'chip-on' : ''} status-${status ?? 'all'}`,
        'data-status': status ?? 'all',
        onclick: () => void setFilter(status),
      },
      `${status ?? 'all'} `,
      h('b', {}, String(count)),
    );
  fill(
    byId('saga-counts'),
    chip(null, total),
    ...statuses.map((status) => chip(status, recent.counts[status] ?? 0)),
  );
}

async function setFilter(status) {
  filter = status;
  renderCounts();
  if (!status) return renderList(recent.items);
  const { items } = await api('GET', `/admin/sagas?status=${status}`);
  renderList(items);
}

function renderList(items) {
  const rows = items.map((saga) =>
    h(
      'tr',
      {
        className: `clickable ${saga.sagaId === selected ? 'selected' : ''}`,
        'data-saga': saga.sagaId,
        onclick: () => selectSaga(saga.sagaId),
      },
      h('td', { className: 'mono', title: saga.sagaId }, shortId(saga.sagaId)),
      h('td', {}, saga.sagaName),
      h('td', {}, pill(saga.status)),
      h('td', {}, saga.step ?? '—'),
      h('td', { className: 'mono' }, clock(saga.createdAt)),
      h('td', { className: 'reason', title: saga.reason ?? '' }, saga.reason ?? ''),
    ),
  );
  fill(
    byId('saga-rows'),
    ...(rows.length
      ? rows
      : [h('tr', {}, h('td', { colspan: 6, className: 'empty' }, 'No sagas yet: place an order.'))]),
  );
}

/** Shows one saga's diagram (and keeps it fresh while it runs). */
export function selectSaga(sagaId) {
  selected = sagaId;
  detail = null;
  if (!filter) renderList(recent.items);
  void loadDetail();
}

let loading = null;
let loadAgain = false;
async function loadDetail() {
  if (loading) {
    // The load out may answer with the saga as it was before this change: load once more after
    // it, or the last change of a saga that then goes quiet would never be shown.
    loadAgain = true;
    return loading;
  }
  const sagaId = selected;
  loading = api('GET', `/admin/sagas/${encodeURIComponent(sagaId)}`)
    .then((answer) => {
      if (sagaId !== selected) return;
      detail = answer;
      renderDetail();
    })
    .catch((error) => toast(`saga ${sagaId}: ${error.message}`, 'error'))
    .finally(() => {
      loading = null;
      if (loadAgain) {
        loadAgain = false;
        void loadDetail();
      }
    });
  return loading;
}

function stepBox(box, kind) {
  const running = box.status === 'running' || box.status === 'compensating';
  const elapsed = running && box.startedAt ? Date.now() - Date.parse(box.startedAt) : box.durationMs;
  return h(
    'div',
    {
      className: `step step-${kind} status-${box.status}`,
      'data-kind': kind,
      'data-step': box.step,
      'data-name': box.name,
      'data-status': box.status,
      style: { gridColumn: String(box.index * 2 + 1) },
    },
    h('div', { className: 'step-name' }, kind === 'compensation' ? `↩ ${box.name}` : box.name),
    h('div', { className: 'step-status' }, pill(box.status)),
    h(
      'div',
      { className: 'step-meta' },
      `${box.attempts} attempt${box.attempts === 1 ? '' : 's'} · ${running ? `${duration(elapsed)}…` : duration(elapsed)}`,
    ),
    h(
      'div',
      { className: 'step-time mono' },
      box.startedAt ? `${clock(box.startedAt)} → ${clock(box.endedAt)}` : 'not run',
    ),
    box.error ? h('div', { className: 'step-error', title: box.error }, box.error) : null,
  );
}

const arrow = (column, row, text, className) =>
  h(
    'div',
    { className: `arrow ${className}`, style: { gridColumn: String(column), gridRow: String(row) } },
    text,
  );

function diagramGrid(diagram) {
  const steps = diagram.forward.length;
  const grid = h('div', {
    className: 'saga-diagram',
    style: { gridTemplateColumns: Array.from({ length: steps }, () => 'minmax(150px, 1fr)').join(' 44px ') },
  });
  diagram.forward.forEach((box, index) => {
    const element = stepBox(box, 'forward');
    element.style.gridRow = '1';
    grid.append(element);
    if (index < steps - 1) {
      const next = diagram.forward[index + 1];
      grid.append(arrow(index * 2 + 2, 1, '→', next.startedAt ? 'arrow-done' : 'arrow-idle'));
    }
  });
  if (diagram.compensations.length === 0) return grid;
  const failed = diagram.forward.findIndex((box) => box.step === diagram.failedStep);
  const lowest = Math.min(...diagram.compensations.map((box) => box.index));
  const highest = Math.max(failed, ...diagram.compensations.map((box) => box.index));
  if (failed >= 0 && !diagram.compensations.some((box) => box.index === failed)) {
    grid.append(
      h(
        'div',
        { className: 'step step-origin', style: { gridColumn: String(failed * 2 + 1), gridRow: '2' } },
        h('div', { className: 'step-name' }, '↓ failed here'),
        h('div', { className: 'step-meta' }, 'compensating back, newest first'),
      ),
    );
  }
  for (const box of diagram.compensations) {
    const element = stepBox(box, 'compensation');
    element.style.gridRow = '2';
    grid.append(element);
  }
  for (let index = lowest; index < highest; index++) grid.append(arrow(index * 2 + 2, 2, '←', 'arrow-back'));
  return grid;
}

/** Each box's span on one time axis from the saga's start. */
function timeBars(diagram) {
  const boxes = [...diagram.forward, ...diagram.compensations].filter((box) => box.startedAt);
  const start = Date.parse(diagram.createdAt);
  const ends = boxes.map((box) => Date.parse(box.endedAt ?? box.startedAt));
  const live = new Set(['running', 'compensating']).has(diagram.status);
  const end = Math.max(start + 1, ...ends, live ? Date.now() : Date.parse(diagram.updatedAt));
  const span = end - start;
  return h(
    'div',
    { className: 'bars' },
    ...boxes.map((box) => {
      const from = Math.max(0, Date.parse(box.startedAt) - start);
      const to =
        (box.endedAt ? Date.parse(box.endedAt) : live ? Date.now() : Date.parse(diagram.updatedAt)) - start;
      return h(
        'div',
        { className: 'bar-row' },
        h('span', { className: 'bar-label' }, box.name),
        h(
          'span',
          { className: 'bar-track' },
          h('span', {
            className: `bar status-${box.status}`,
            style: {
              left: `${(from / span) * 100}%`,
              width: `${Math.max(0.6, ((to - from) / span) * 100)}%`,
            },
            title: `${box.name}: ${duration(to - from)}`,
          }),
        ),
        h('span', { className: 'bar-value mono' }, `+${duration(from)}`),
      );
    }),
    h('div', { className: 'bar-axis mono' }, `0 … ${duration(span)}`),
  );
}

function renderDetail() {
  const { service, diagram } = detail;
  const redrive =
    diagram.status === 'dead'
      ? h(
          'button',
          {
            className: 'danger',
            onclick: (event) =>
              act(event.currentTarget, async () => {
                await api('POST', `/admin/sagas/${encodeURIComponent(diagram.sagaId)}/redrive`, undefined, {
                  admin: true,
                });
                toast('Saga redriven: its failing compensation runs again');
                await loadDetail();
              }),
          },
          'Redrive saga',
        )
      : null;
  fill(
    byId('saga-detail'),
    h(
      'div',
      { className: 'detail-head' },
      h('h3', {}, `${diagram.sagaName} `, h('span', { className: 'mono' }, diagram.sagaId)),
      pill(diagram.status),
      h('span', { className: 'muted' }, ` in ${service} · started ${clock(diagram.createdAt)}`),
      h('span', { className: 'spacer' }),
      h('button', { onclick: () => onFollow(diagram.correlationId) }, 'Follow this flow across services'),
      redrive,
    ),
    diagram.reason ? h('p', { className: 'reason-line' }, diagram.reason) : null,
    diagramGrid(diagram),
    timeBars(diagram),
  );
}
