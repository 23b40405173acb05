/**
 * A shop's history as its services' event logs hold it, for the lakehouse bench: a catalog with
 * price changes, registered users, and orders of three lines each that are charged and confirmed
 * (most), declined and cancelled, or left pending. Events come in time order, each service with
 * its own global positions. Seeded, so every run builds the same gold.
 */
import { type Message, newMessageId } from '@causeway/core';

/** One logged event and the service whose log holds it. */
export interface LoggedEvent {
  readonly service: string;
  readonly message: Message;
}

export interface HistoryOptions {
  /** Orders placed; each has `linesPerOrder` lines. */
  readonly orders: number;
  readonly products: number;
  readonly users: number;
}

export const linesPerOrder = 3;
/** Each product's price changes this many times over the year the orders span. */
const priceChanges = 3;
const countries = ['DE', 'FR', 'NL', 'IT', 'ES', 'PL', 'SE', 'AT'];
const yearStart = Date.UTC(2026, 0, 1);
const dayMs = 86_400_000;

/** The sizes of a history of about `orderLines` lines: a product per thousand lines (at least 100), a user per ten orders. */
export function historyOf(orderLines: number): HistoryOptions {
  const orders = Math.ceil(orderLines / linesPerOrder);
  return {
    orders,
    products: Math.min(1_000, Math.max(100, Math.round(orderLines / 1_000))),
    users: Math.max(10, Math.round(orders / 10)),
  };
}

/** mulberry32: a small seeded generator, so two runs place the same orders at the same prices. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every event of the history, in time order: catalog and users first, then orders and repricings. */
export function* shopHistory(options: HistoryOptions): Generator<LoggedEvent> {
  const random = seededRandom(16);
  const log = createLogs();
  const prices: number[] = [];
  const versions: number[] = [];
  for (let index = 0; index < options.products; index++) {
    prices.push(500 + Math.floor(random() * 20_000));
    versions.push(1);
    yield log.add('catalog', [`product-${index}`, 1], 'catalog.ProductCreated', yearStart + index * 1_000, {
      productId: productId(index),
      sku: `SKU-${String(index).padStart(5, '0')}`,
      name: `Product ${index}`,
      priceCents: prices[index]!,
      currency: 'EUR',
    });
  }
  for (let index = 0; index < options.users; index++) {
    yield log.add('users', [`user-${index}`, 1], 'users.UserRegistered', yearStart + 3_600_000 + index * 10, {
      userId: userId(index),
      name: { $pii: 'sealed' },
      email: { $pii: 'sealed' },
    });
  }
  const repricings = repricingTimes(options.products, random);
  let nextRepricing = 0;
  const firstOrderAt = yearStart + dayMs;
  const spanMs = 360 * dayMs;
  for (let order = 0; order < options.orders; order++) {
    const placedAt = firstOrderAt + Math.floor((order * spanMs) / options.orders);
    while (nextRepricing < repricings.length && repricings[nextRepricing]!.at <= placedAt) {
      const { product, at } = repricings[nextRepricing++]!;
      prices[product] = Math.max(100, Math.round(prices[product]! * (0.8 + random() * 0.4)));
      versions[product]! += 1;
      yield log.add('catalog', [`product-${product}`, versions[product]!], 'catalog.ProductUpdated', at, {
        productId: productId(product),
        priceCents: prices[product]!,
      });
    }
    yield* orderEvents(log, { order, placedAt, options, prices, random });
  }
}

function productId(index: number): string {
  return `prod-${String(index).padStart(5, '0')}`;
}

function userId(index: number): string {
  return `user-${String(index).padStart(7, '0')}`;
}

/** Each product's repricings, spread over the year, sorted by time. */
function repricingTimes(products: number, random: () => number): Array<{ product: number; at: number }> {
  const times: Array<{ product: number; at: number }> = [];
  for (let product = 0; product < products; product++) {
    for (let change = 1; change <= priceChanges; change++) {
      const at = yearStart + Math.floor(((change + random()) * 360 * dayMs) / (priceChanges + 1));
      times.push({ product, at });
    }
  }
  return times.sort((a, b) => a.at - b.at);
}

/** An order's events: placed, then charged and confirmed (88 %), declined and cancelled (8 %), or nothing yet. */
function* orderEvents(
  log: ReturnType<typeof createLogs>,
  order: {
    order: number;
    placedAt: number;
    options: HistoryOptions;
    prices: readonly number[];
    random: () => number;
  },
): Generator<LoggedEvent> {
  const { random, options } = order;
  const orderId = `order-${String(order.order).padStart(8, '0')}`;
  const user = userId(Math.floor(random() * options.users));
  const first = Math.floor(random() * options.products);
  const items = Array.from({ length: linesPerOrder }, (_, line) => {
    // Three different products: a step smaller than the catalog never comes back to the first.
    const product = (first + line * 7) % options.products;
    return {
      productId: productId(product),
      name: `Product ${product}`,
      unitPriceCents: order.prices[product]!,
      quantity: 1 + Math.floor(random() * 3),
    };
  });
  const totalCents = items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
  const placedAt = new Date(order.placedAt).toISOString();
  const country = random() < 0.9 ? { shipToCountry: countries[order.order % countries.length]! } : {};
  yield log.add('orders', [orderId, 1], 'orders.OrderPlaced', order.placedAt, {
    orderId,
    userId: user,
    items,
    totalCents,
    currency: 'EUR',
    placedAt,
    ...country,
  });
  const outcome = random();
  if (outcome < 0.88) {
    yield log.add('payments', [`payment-${orderId}`, 1], 'payments.Charged', order.placedAt + 400, {
      orderId,
      amountCents: totalCents,
      currency: 'EUR',
      paymentId: newMessageId(),
    });
    yield log.add('orders', [orderId, 2], 'orders.OrderConfirmed', order.placedAt + 900, {
      orderId,
      userId: user,
      items,
      totalCents,
      placedAt,
    });
  } else if (outcome < 0.96) {
    yield log.add('payments', [`payment-${orderId}`, 1], 'payments.Declined', order.placedAt + 400, {
      orderId,
      reason: 'card declined',
    });
    yield log.add('orders', [orderId, 2], 'orders.OrderCancelled', order.placedAt + 900, {
      orderId,
      userId: user,
      reason: 'payment declined',
    });
  }
}

/** Each service's log, numbering its global positions; callers give the stream positions. */
function createLogs() {
  const globalPositions = new Map<string, number>();
  return {
    add(
      service: string,
      stream: [id: string, position: number],
      type: string,
      atMs: number,
      data: Record<string, unknown>,
    ): LoggedEvent {
      const globalPosition = (globalPositions.get(service) ?? 0) + 1;
      globalPositions.set(service, globalPosition);
      const message: Message = {
        id: newMessageId(),
        type,
        schemaVersion: 1,
        streamId: stream[0],
        streamPosition: stream[1],
        globalPosition,
        correlationId: null,
        causationId: null,
        occurredAt: new Date(atMs).toISOString(),
        metadata: {},
        data,
      };
      return { service, message };
    },
  };
}
