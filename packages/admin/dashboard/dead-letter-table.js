// The dead-letter queue: a row per entry (id and consumer, status, reason, attempts and when last
// seen), a click on the id shows the message itself, and an open entry (dead or parked) has
// Redrive (replay it and whatever is parked behind it, in order) and Discard.
import { clock, h, pill } from './dom.js';

const open = new Set(['dead', 'parked']);

export const deadLetterColumns = ['entry', 'status', 'reason', 'attempts', ''];
export const isOpenDeadLetter = (entry) => open.has(entry.status);

/**
 * The rows for `entries`. `idOf(entry)` names an entry (default its sequence); `expanded` holds the
 * ids whose message is shown; `onToggle(id)`, `onRedrive(entry, button)` and `onDiscard(entry, button)`
 * are the page's to act on.
 */
export function deadLetterRows(
  entries,
  { idOf = (entry) => String(entry.sequence), expanded = new Set(), onToggle, onRedrive, onDiscard } = {},
) {
  return entries.flatMap((entry) => {
    const id = idOf(entry);
    const shown = expanded.has(id);
    const actions = open.has(entry.status)
      ? [
          h(
            'button',
            {
              className: 'primary',
              'data-action': 'redrive',
              onclick: (event) => onRedrive?.(entry, event.currentTarget),
            },
            'Redrive',
          ),
          h(
            'button',
            {
              className: 'danger',
              'data-action': 'discard',
              onclick: (event) => onDiscard?.(entry, event.currentTarget),
            },
            'Discard',
          ),
        ]
      : null;
    const row = h(
      'tr',
      { 'data-testid': 'dead-letter-row', 'data-id': id, 'data-status': entry.status },
      h(
        'td',
        {},
        h(
          'button',
          {
            className: 'link',
            'data-action': 'payload',
            title: 'Show the message',
            onclick: () => onToggle?.(id),
          },
          `${shown ? '▾' : '▸'} ${id}`,
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
      h('td', { className: 'actions' }, actions),
    );
    if (!shown) return [row];
    const payload = h('pre', { className: 'payload' }, JSON.stringify(entry.message, null, 2));
    return [row, h('tr', { className: 'payload-row' }, h('td', { colspan: 5 }, payload))];
  });
}
