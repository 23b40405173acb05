// A small order form on the public API, so a newcomer can watch a saga run (and compensate)
// without curl: it lists every product the shop has (GET /products), and demo data (a user,
// products with stock) is made on the first order or on demand, and kept per shop in this browser.

import { byId, fill, h } from '/causeway/dom.js';
import { act, api, toast } from './api.js';

const demoProducts = [
  { sku: 'TEA-GREEN', name: 'Green tea', priceCents: 450 },
  { sku: 'TEA-EARL', name: 'Earl grey', priceCents: 520 },
  { sku: 'MUG-BLUE', name: 'Blue mug', priceCents: 1200 },
];
let storageKey = 'causeway.demo';
let demo = null;
let onPlaced = () => {};
/** Every product the query service lists (made here or through the API), freshest first. */
let products = [];

export function initOrderForm({ shopId, placed }) {
  storageKey = `causeway.demo.${shopId}`;
  onPlaced = placed;
  demo = JSON.parse(localStorage.getItem(storageKey) ?? 'null');
  renderChoices();
  void loadProducts();
  // Products made through the API since the page loaded show up when the list is opened.
  byId('order-product').addEventListener('focus', () => void loadProducts());
  byId('seed-demo').addEventListener('click', (event) => act(event.currentTarget, seed));
  byId('order-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void act(byId('place-order'), placeOrder);
  });
  for (const button of document.querySelectorAll('[data-token]')) {
    button.addEventListener('click', () => {
      byId('order-token').value = button.dataset.token;
      byId('order-country').value = button.dataset.country ?? 'US';
      void act(byId('place-order'), placeOrder);
    });
  }
}

/** The products the query service lists, with this browser's demo products it may not show yet. */
async function loadProducts() {
  const listed = await api('GET', '/products').catch(() => ({ items: [] }));
  const known = new Set(listed.items.map((product) => product.id));
  products = [...(demo?.products ?? []).filter((product) => !known.has(product.id)), ...listed.items];
  renderChoices();
}

function renderChoices() {
  const select = byId('order-product');
  const chosen = select.value;
  const choices = products.length > 0 ? products : (demo?.products ?? []);
  fill(
    select,
    ...(choices.length === 0 ? [h('option', { value: '' }, 'demo products, made on the first order')] : []),
    ...choices.map((product) =>
      h('option', { value: product.id }, `${product.name} · $${(product.priceCents / 100).toFixed(2)}`),
    ),
  );
  if (choices.some((product) => product.id === chosen)) select.value = chosen;
  fill(
    byId('order-user'),
    demo ? `${demo.user.name} (${demo.user.id.slice(0, 8)}…)` : 'made on the first order',
  );
}

/** A user and three products with 100 in stock each, through the public API like any client. */
async function seed() {
  const stamp = Date.now().toString(36).toUpperCase();
  const name = 'Ada Lovelace';
  const user = await api('POST', '/users', { name, email: `ada+${stamp.toLowerCase()}@example.com` });
  const products = [];
  for (const product of demoProducts) {
    const created = await api('POST', '/products', { ...product, sku: `${product.sku}-${stamp}` });
    await api('POST', `/inventory/${created.id}/restock`, { quantity: 100 });
    products.push({ id: created.id, name: product.name, priceCents: product.priceCents });
  }
  demo = { user: { id: user.id, name }, products };
  localStorage.setItem(storageKey, JSON.stringify(demo));
  await loadProducts();
  toast('Demo data ready: a user and three products with 100 in stock');
}

async function placeOrder() {
  // The product picked before any demo data exists (one made through the API) stays picked.
  const chosen = byId('order-product').value;
  if (!demo) await seed();
  const token = byId('order-token').value.trim() || 'tok_visa';
  const country = byId('order-country').value;
  const body = {
    userId: demo.user.id,
    items: [
      {
        productId: chosen || byId('order-product').value || demo.products[0].id,
        quantity: Number(byId('order-quantity').value) || 1,
      },
    ],
    payment: { token },
    shippingAddress: { country },
  };
  const { orderId } = await api('POST', '/orders', body, {
    headers: { 'idempotency-key': crypto.randomUUID() },
  });
  fill(
    byId('order-result'),
    'Order ',
    h('span', { className: 'mono', 'data-testid': 'placed-order' }, orderId),
    ' placed: PENDING',
  );
  onPlaced(orderId);
  void watchOrder(orderId);
}

/** Shows the order's status until the saga ends it (CONFIRMED or CANCELLED). */
async function watchOrder(orderId) {
  for (let tries = 0; tries < 240; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const order = await api('GET', `/orders/${orderId}`).catch(() => null);
    if (!order || order.status === 'PENDING') continue;
    fill(
      byId('order-result'),
      'Order ',
      h('span', { className: 'mono', 'data-testid': 'placed-order' }, orderId),
      ': ',
      h('b', { 'data-testid': 'order-status' }, order.status),
      order.cancelReason ? ` (${order.cancelReason})` : '',
      ` · payment ${order.payment.status}, shipment ${order.shipment.status}`,
    );
    return;
  }
}
