// Outbox backlog per service, as @causeway/admin draws it: messages committed but not yet on the
// broker, the oldest one's age, and a sparkline of the last minute sampled from the live stream.
import { byId, fill } from '/causeway/dom.js';
import { OutboxBacklog } from '/causeway/outbox-backlog.js';

const backlog = new OutboxBacklog();

export function updateOutbox(services) {
  fill(byId('outbox-rows'), ...backlog.rows(services));
}
