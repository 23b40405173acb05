// The dead-letter queue of every service: reason, attempts and the message itself, with redrive
// (replay it and whatever is parked behind it, in order) and discard. In dev mode a poison
// message can be sent to any service, to see the queue work without breaking anything.
import { act, api, toast } from './api.js';
import { byId, clock, fill, h, pill } from './dom.js';

const open = new Set(['dead', 'parked']);
const expanded = new Set();
let items = [];

export function initDeadLetters({ dev, services }) {
  byId('poison-form').hidden = !dev;
  fill(
    byId('poison-service'),
    ...services.map((name) => h('option', { value: name, selected: name === 'payments' }, name)),
  );
  byId('poison-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter ?? byId('poison-send');
    void act(button, async () => {
      const service = byId('poison-service').value;
      const refuseAttempts = byId('poison-kind').value === 'always' ? 1_000_000_000 : 1;
      await api('POST', '/admin/dev/poison', { service, refuseAttempts }, { admin: true });
      toast(`Poison message sent to ${service}: it lands in the queue in a moment`);
    });
  });
  byId('dead-letters-open-only').addEventListener('change', render);
}

export function updateDeadLetters(topic) {
  items = topic.items;
  render();
}

function actionButtons(entry) {
  if (!open.has(entry.status)) return null;
  const redrive = (event) =>
    act(event.currentTarget, async () => {
      const result = await api('POST', `/dead-letters/${entry.id}/redrive`, undefined, { admin: true });
      if (result.failed) toast(`Redrive of ${entry.id} failed again: ${result.failed.reason}`, 'error');
      else toast(`Redriven: ${result.redriven} message${result.redriven === 1 ? '' : 's'} handled`);
    });
  const discard = (event) =>
    act(event.currentTarget, async () => {
      await api('DELETE', `/dead-letters/${entry.id}`, undefined, { admin: true });
      toast(`Discarded ${entry.id}`);
    });
  return [
    h('button', { className: 'primary', 'data-action': 'redrive', onclick: redrive }, 'Redrive'),
    h('button', { className: 'danger', 'data-action': 'discard', onclick: discard }, 'Discard'),
  ];
}

function render() {
  const openOnly = byId('dead-letters-open-only').checked;
  const shown = items.filter((entry) => !openOnly || open.has(entry.status));
  const rows = shown.flatMap((entry) => {
    const isExpanded = expanded.has(entry.id);
    const toggle = () => {
      if (isExpanded) expanded.delete(entry.id);
      else expanded.add(entry.id);
      render();
    };
    const row = h(
      'tr',
      { 'data-testid': 'dead-letter-row', 'data-id': entry.id, 'data-status': entry.status },
      h(
        'td',
        {},
        h(
          'button',
          { className: 'link', 'data-action': 'payload', title: 'Show the message', onclick: toggle },
          `${isExpanded ? '▾' : '▸'} ${entry.id}`,
        ),
        h('div', { className: 'muted small' }, entry.consumer),
      ),
      h('td', {}, pill(entry.status)),
      h('td', { className: 'reason', title: entry.reason }, entry.reason),
      h(
        'td',
        { className: 'mono nowrap' },
        `${entry.attempts}×`,
        h('div', { className: 'muted small' }, clock(entry.lastSeenAt)),
      ),
      h('td', { className: 'actions' }, actionButtons(entry)),
    );
    if (!isExpanded) return [row];
    const payload = h('pre', { className: 'payload' }, JSON.stringify(entry.message, null, 2));
    return [row, h('tr', { className: 'payload-row' }, h('td', { colspan: 5 }, payload))];
  });
  fill(
    byId('dead-letter-rows'),
    ...(rows.length
      ? rows
      : [h('tr', {}, h('td', { colspan: 5, className: 'empty' }, 'The queue is empty.'))]),
  );
  const waiting = items.filter((entry) => open.has(entry.status)).length;
  fill(byId('dead-letter-count'), `${waiting} waiting · ${items.length - waiting} resolved`);
}
