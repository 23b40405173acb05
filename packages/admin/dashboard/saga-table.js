// The sagas list: a row per saga (id, name, status, where it stands, when it started, why it
// ended as it did), a click on a row selects it.
import { clock, h, pill, shortId } from './dom.js';

export const sagaColumns = ['saga', 'name', 'status', 'where', 'started', 'reason'];

/** The rows for `items` (as `GET <base>/api/sagas` lists them), `selected` marked. */
export function sagaRows(items, { selected = null, onSelect = () => {} } = {}) {
  return items.map((saga) =>
    h(
      'tr',
      {
        className: `clickable ${saga.sagaId === selected ? 'selected' : ''}`,
        'data-saga': saga.sagaId,
        onclick: () => onSelect(saga.sagaId),
      },
      h('td', { className: 'mono', title: saga.sagaId }, shortId(saga.sagaId)),
      h('td', {}, saga.sagaName),
      h('td', {}, pill(saga.status)),
      h('td', { 'data-testid': 'step' }, saga.step ?? '—'),
      h('td', { className: 'mono' }, clock(saga.createdAt)),
      h('td', { className: 'reason', title: saga.reason ?? '' }, saga.reason ?? ''),
    ),
  );
}
