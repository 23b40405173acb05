// Events, newest first: when, which service, the type, the stream and position, and the
// correlation id as a button that follows the flow it belongs to.
import { clock, h, shortId } from './dom.js';

export const eventColumns = ['at', 'service', 'type', 'stream', 'correlation'];

/** The rows for `events` (oldest first, as read) newest first; `onFollow(correlationId)` follows a flow. */
export function eventRows(events, { onFollow = () => {} } = {}) {
  return events
    .slice()
    .reverse()
    .map((event) =>
      h(
        'tr',
        { 'data-type': event.type, 'data-position': event.globalPosition },
        h('td', { className: 'mono' }, clock(event.occurredAt)),
        h('td', {}, event.service ?? ''),
        h('td', { className: 'mono' }, event.type),
        h(
          'td',
          { className: 'mono', title: event.streamId },
          `${shortId(event.streamId)} #${event.streamPosition}`,
        ),
        h(
          'td',
          { className: 'mono' },
          event.correlationId
            ? h(
                'button',
                {
                  className: 'link',
                  title: `Follow ${event.correlationId}`,
                  onclick: () => onFollow(event.correlationId),
                },
                shortId(event.correlationId),
              )
            : '—',
        ),
      ),
    );
}
