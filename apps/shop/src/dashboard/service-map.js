// The service map: each process as a box (status, pid, restarts, database, transport, outbox and
// dead letters), the message routes between them as arrows, the changes every source service
// feeds into analytics as one bus under them, and a table with the details.
import { ago, byId, fill, h, s } from '/causeway/dom.js';

const box = { width: 200, height: 96 };
const places = {
  gateway: { x: 400, y: 8 },
  catalog: { x: 20, y: 176 },
  users: { x: 20, y: 344 },
  orders: { x: 400, y: 176 },
  inventory: { x: 780, y: 60 },
  payments: { x: 780, y: 200 },
  shipping: { x: 780, y: 340 },
  query: { x: 400, y: 344 },
  analytics: { x: 400, y: 500 },
};
// Producer → consumer, as in docs/design/shop.md "Messages".
const routes = [
  ['catalog', 'orders', 'catalog.events'],
  ['catalog', 'query', 'catalog.events'],
  ['catalog', 'gateway', 'catalog.events'],
  ['users', 'query', 'users.events'],
  ['orders', 'query', 'orders.events'],
  ['orders', 'inventory', 'commands · orders.events'],
  ['orders', 'payments', 'commands'],
  ['orders', 'shipping', 'commands'],
  ['inventory', 'orders', 'replies'],
  ['payments', 'orders', 'replies'],
  ['shipping', 'orders', 'replies'],
];
const databaseName = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

// Every source's changes into analytics (docs/analytics.md: the WAL, or the event log read page by
// page). Drawn as one bus under the map so six more arrows do not cross the message routes: each
// source leaves its box where nothing else does, then runs along the bus into the analytics box.
const busY = 472;
const feeds = {
  users: [[120, 440]],
  catalog: [
    [20, 224],
    [10, 224],
    [10, busY],
  ],
  orders: [
    [410, 272],
    [410, 306],
    [386, 306],
    [386, busY],
  ],
  inventory: [
    [980, 108],
    [992, 108],
    [992, busY],
  ],
  payments: [
    [980, 248],
    [992, 248],
    [992, busY],
  ],
  shipping: [[880, 436]],
};

function feedLine([service, points]) {
  const [x] = points.at(-1);
  const into = places.analytics;
  const path = [...points, [x, busY], [into.x + box.width / 2, busY], [into.x + box.width / 2, into.y - 1]];
  return s(
    'g',
    { class: 'route route-feed', 'data-from': service, 'data-to': 'analytics' },
    s('polyline', {
      class: 'feed-line',
      points: path.map((point) => point.join(',')).join(' '),
      'marker-end': 'url(#arrow)',
    }),
  );
}

/** Where the line from the centre of `from` towards `to` leaves the box. */
function edgePoint(from, to) {
  const cx = from.x + box.width / 2;
  const cy = from.y + box.height / 2;
  const dx = to.x + box.width / 2 - cx;
  const dy = to.y + box.height / 2 - cy;
  const scale = Math.min(Math.abs(box.width / 2 / (dx || 1e-9)), Math.abs(box.height / 2 / (dy || 1e-9)));
  return { x: cx + dx * scale, y: cy + dy * scale };
}

function routeLine([from, to, label]) {
  const start = edgePoint(places[from], places[to]);
  const end = edgePoint(places[to], places[from]);
  // Replies run back along the same pair: offset both ways so the two arrows do not overlap.
  const offset = label === 'replies' ? 6 : routes.some(([a, b]) => a === to && b === from) ? -6 : 0;
  const length = Math.hypot(end.x - start.x, end.y - start.y) || 1;
  const nx = (-(end.y - start.y) / length) * offset;
  const ny = ((end.x - start.x) / length) * offset;
  return s(
    'g',
    { class: `route route-${label === 'replies' ? 'reply' : 'message'}` },
    s('line', {
      x1: start.x + nx,
      y1: start.y + ny,
      x2: end.x + nx,
      y2: end.y + ny,
      'marker-end': 'url(#arrow)',
    }),
    label === 'replies'
      ? null
      : s(
          'text',
          { x: (start.x + end.x) / 2 + nx, y: (start.y + end.y) / 2 + ny - 4, class: 'route-label' },
          label,
        ),
  );
}

function serviceBox(service) {
  const { x, y } = places[service.name];
  const database = service.database ? databaseName[service.database.kind] : '—';
  const lines = [
    `pid ${service.pid ?? '—'} · restarts ${service.restarts}`,
    `${database} · ${service.transport ?? '—'}`,
    service.outbox
      ? `outbox ${service.outbox.count} · DLQ ${service.deadLetters.open} · events ${service.events.count}`
      : (service.supervisor?.status ?? 'not answering'),
  ];
  return s(
    'g',
    { class: `node node-${service.status}`, 'data-service': service.name, 'data-status': service.status },
    s('rect', { x, y, width: box.width, height: box.height, rx: 8 }),
    s('circle', { cx: x + 16, cy: y + 20, r: 6, class: 'node-dot' }),
    s('text', { x: x + 28, y: y + 25, class: 'node-name' }, service.name),
    s(
      'text',
      { x: x + box.width - 10, y: y + 25, class: 'node-status', 'text-anchor': 'end' },
      service.status,
    ),
    ...lines.map((line, index) => s('text', { x: x + 12, y: y + 48 + index * 17, class: 'node-line' }, line)),
  );
}

export function renderServiceMap(services) {
  const svg = s(
    'svg',
    { viewBox: '0 0 1000 602', class: 'map', role: 'img', 'aria-label': 'service map' },
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z' }),
      ),
    ),
    ...routes.map(routeLine),
    ...Object.entries(feeds).map(feedLine),
    s(
      'text',
      { x: places.analytics.x + box.width / 2 + 8, y: busY + 16, class: 'route-feed-label' },
      'CDC / event log',
    ),
    ...services.filter((service) => places[service.name]).map(serviceBox),
  );
  const table = h(
    'table',
    { className: 'table compact', 'data-testid': 'service-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['service', 'status', 'pid', 'restarts', 'database', 'transport', 'consumers', 'up since'].map(
          (t) => h('th', {}, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...services.map((service) =>
        h(
          'tr',
          { 'data-service': service.name },
          h('td', {}, service.name),
          h('td', {}, h('span', { className: `pill status-${service.status}` }, service.status)),
          h('td', {}, String(service.pid ?? '—')),
          h('td', {}, String(service.restarts)),
          h(
            'td',
            { title: service.database?.location ?? '' },
            service.database ? `${databaseName[service.database.kind]} ${service.database.location}` : '—',
          ),
          h('td', {}, service.transport ?? '—'),
          h('td', {}, (service.consumers ?? []).join(', ') || '—'),
          h('td', {}, service.startedAt ? ago(service.startedAt) : '—'),
        ),
      ),
    ),
  );
  fill(byId('service-map'), svg, table);
  const up = services.filter((service) => service.status === 'up').length;
  fill(byId('service-summary'), `${up} of ${services.length} up`);
}
