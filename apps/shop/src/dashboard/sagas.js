// Sagas across the shop's services: counts by status, the list (recent, or one status), and one
// saga as @causeway/admin draws it (its step diagram with the compensations, and time bars), with
// the service that holds it, its flow and, for a dead saga, redrive.
import { byId, clock, fill, h, pill } from '/causeway/dom.js';
import { sagaDiagramView } from '/causeway/saga-diagram.js';
import { sagaRows } from '/causeway/saga-table.js';
import { act, api, toast } from './api.js';

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
  const rows = sagaRows(items, { selected, onSelect: selectSaga });
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
    sagaDiagramView(diagram),
  );
}
