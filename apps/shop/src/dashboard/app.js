// The dashboard's entry: asks the gateway how it runs (dev mode or token), opens the live stream
// (server-sent events) and hands each topic to the panel that shows it.

import { byId, fill, h } from '/causeway/dom.js';
import { initAnalytics } from './analytics.js';
import { adminToken, api } from './api.js';
import { initDataProducts } from './data-products.js';
import { initDeadLetters, updateDeadLetters } from './dead-letters.js';
import { addEvents, initEventStream } from './event-stream.js';
import { followFlow, initFlow, noticeEvents } from './flow.js';
import { initOrderForm } from './order-form.js';
import { updateOutbox } from './outbox.js';
import { initProjections, updateProjections } from './projections.js';
import { initSagas, selectSaga, updateSagas } from './sagas.js';
import { renderServiceMap } from './service-map.js';

const services = ['gateway', 'users', 'catalog', 'inventory', 'orders', 'payments', 'shipping', 'query'];

function showMode(config) {
  if (config.dev) {
    fill(
      byId('mode'),
      h('span', { className: 'pill status-up' }, 'dev mode'),
      ' admin actions need no token',
    );
    return;
  }
  const input = h('input', {
    type: 'password',
    placeholder: 'admin or read token',
    value: adminToken.get(),
    'data-testid': 'admin-token',
    onchange: (event) => {
      adminToken.set(event.target.value.trim());
      connect();
    },
  });
  fill(
    byId('mode'),
    'Views need ',
    h('code', {}, 'SHOP_READ_TOKEN'),
    ' or ',
    h('code', {}, 'SHOP_ADMIN_TOKEN'),
    ', actions the admin token: ',
    input,
  );
}

let stream = null;

function connect() {
  stream?.close();
  // An EventSource sends no headers: the token goes in the query (the gateway reads access_token).
  const token = adminToken.get();
  stream = new EventSource(`/api/admin/stream${token ? `?access_token=${encodeURIComponent(token)}` : ''}`);
  const on = (topic, handle) => stream.addEventListener(topic, (event) => handle(JSON.parse(event.data)));
  const status = byId('connection');
  stream.addEventListener('open', () => {
    status.className = 'pill status-up';
    status.textContent = 'live';
  });
  stream.addEventListener('error', () => {
    status.className = 'pill status-down';
    status.textContent = 'reconnecting';
  });
  on('services', (topic) => {
    renderServiceMap(topic);
    updateOutbox(topic);
  });
  on('events', (topic) => {
    addEvents(topic);
    noticeEvents(topic.items);
  });
  on('sagas', updateSagas);
  on('projections', updateProjections);
  on('deadLetters', updateDeadLetters);
}

const config = await api('GET', '/admin/config');
showMode(config);
fill(
  byId('event-service'),
  h('option', { value: '' }, 'all services'),
  ...services.map((name) => h('option', { value: name }, name)),
);
initEventStream({ follow: followFlow });
initSagas({ follow: followFlow });
initFlow();
initProjections();
initDeadLetters({ dev: config.dev, services });
initAnalytics();
initDataProducts();
initOrderForm({
  shopId: config.shopId,
  placed: (orderId) => {
    selectSaga(orderId);
    followFlow(orderId);
  },
});
connect();

// One box for any id a user holds: the saga (in the shop, an order's saga has the order's id) and
// the flow of everything that carried it as correlation id.
byId('find-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = byId('find-id').value.trim();
  if (!id) return;
  selectSaga(id);
  followFlow(id);
  byId('saga-panel').scrollIntoView({ behavior: 'smooth' });
});
