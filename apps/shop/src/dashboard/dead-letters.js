// The dead-letter queue of every service, drawn by @causeway/admin's table (an entry's id is
// service:sequence here). In dev mode a poison message can be sent to any service, to see the
// queue work without breaking anything.
import { deadLetterRows, isOpenDeadLetter } from '/causeway/dead-letter-table.js';
import { byId, fill, h } from '/causeway/dom.js';
import { act, api, toast } from './api.js';

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

const redrive = (entry, button) =>
  act(button, async () => {
    const result = await api('POST', `/dead-letters/${entry.id}/redrive`, undefined, { admin: true });
    if (result.failed) toast(`Redrive of ${entry.id} failed again: ${result.failed.reason}`, 'error');
    else toast(`Redriven: ${result.redriven} message${result.redriven === 1 ? '' : 's'} handled`);
  });

const discard = (entry, button) =>
  act(button, async () => {
    await api('DELETE', `/dead-letters/${entry.id}`, undefined, { admin: true });
    toast(`Discarded ${entry.id}`);
  });

const toggle = (id) => {
  if (!expanded.delete(id)) expanded.add(id);
  render();
};

function render() {
  const openOnly = byId('dead-letters-open-only').checked;
  const shown = items.filter((entry) => !openOnly || isOpenDeadLetter(entry));
  const rows = deadLetterRows(shown, {
    idOf: (entry) => entry.id,
    expanded,
    onToggle: toggle,
    onRedrive: redrive,
    onDiscard: discard,
  });
  fill(
    byId('dead-letter-rows'),
    ...(rows.length
      ? rows
      : [h('tr', {}, h('td', { colspan: 5, className: 'empty' }, 'The queue is empty.'))]),
  );
  const waiting = items.filter(isOpenDeadLetter).length;
  fill(byId('dead-letter-count'), `${waiting} waiting · ${items.length - waiting} resolved`);
}
