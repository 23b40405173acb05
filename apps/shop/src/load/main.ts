/**
 * `npm run load -- --orders N --concurrency C [--url http://127.0.0.1:3000/api] [--with-timeouts] [--soak]`
 * Drives a running shop through its gateway: one user, a few products with stock, then N orders
 * placed by C concurrent clients, each followed until CONFIRMED or CANCELLED. Ends with
 * throughput, latency percentiles and the outcome per payment token; exits 1 when an order failed,
 * got stuck or ended against the contract (e.g. a tok_declined order CONFIRMED). `--soak` orders
 * one product (20,000 times unless --orders says otherwise) and reports the rate per window of
 * orders, to show whether throughput holds as the product's history grows.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { loadConfig } from '../config.ts';
import { cpuPerOrderReport, sampleCpu } from './cpu-per-order.ts';
import { isUnexpected, loadReport, type OrderResult } from './load-report.ts';
import { type PaymentToken, paymentTokenMix } from './order-mix.ts';
import { ShopClient, ShopHttpError, ShopUnreachableError } from './shop-client.ts';
import { soakReport, soakWindowSize, soakWindows } from './soak-report.ts';

interface LoadOptions {
  orders: number;
  concurrency: number;
  url: string;
  withTimeouts: boolean;
  products: number;
  waitMs: number;
  soak: boolean;
}

const usage = `Usage: npm run load -- --orders N --concurrency C [options]
  --orders N         orders to place (default 100)
  --concurrency C    clients placing orders at the same time (default 10)
  --url URL          the gateway (default http://127.0.0.1:$PORT/api, PORT from the environment or 3000)
  --with-timeouts    include a few tok_timeout payments (each takes the payment timeout, 10 s by default)
  --products P       products to order from (default 5)
  --wait-ms MS       how long to follow one order before calling it stuck (default 60000)
  --soak             one product ordered again and again (--orders defaults to 20000): reports
                     orders/s per window of orders, first to last, to show cost flat with history`;

class UsageError extends Error {}

function readOptions(argv: string[]): LoadOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      orders: { type: 'string' },
      concurrency: { type: 'string', default: '10' },
      url: { type: 'string' },
      'with-timeouts': { type: 'boolean', default: false },
      products: { type: 'string' },
      soak: { type: 'boolean', default: false },
      'wait-ms': { type: 'string', default: '60000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const positive = (flag: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      throw new UsageError(`--${flag} must be a whole number ≥ 1, got "${text}"`);
    return value;
  };
  const url = (values.url ?? `http://127.0.0.1:${loadConfig([]).port}/api`).replace(/\/+$/, '');
  if (!URL.canParse(url))
    throw new UsageError(`--url must be a URL such as http://127.0.0.1:3000/api, got "${url}"`);
  const { soak } = values;
  if (soak && values.products !== undefined && values.products !== '1')
    throw new UsageError(`--soak orders one product: leave out --products (got "${values.products}")`);
  return {
    orders: positive('orders', values.orders ?? (soak ? '20000' : '100')),
    concurrency: positive('concurrency', values.concurrency),
    url,
    withTimeouts: values['with-timeouts'],
    products: positive('products', values.products ?? (soak ? '1' : '5')),
    waitMs: positive('wait-ms', values['wait-ms']),
    soak,
  };
}

/** Fails fast, with what to do, when there is no shop to load. */
async function checkShopIsUp(client: ShopClient): Promise<void> {
  try {
    const { body } = await client.get<{ services?: Record<string, { status?: string }> }>('/health');
    const down = Object.entries(body?.services ?? {})
      .filter(([, service]) => service.status !== 'up')
      .map(([name]) => name);
    if (down.length > 0)
      console.warn(`Warning: the shop reports ${down.join(', ')} down; orders may get stuck.`);
  } catch (error) {
    if (error instanceof ShopUnreachableError) {
      throw new Error(
        `Cannot reach the shop at ${client.baseUrl} (${error.reason}). Is the shop running? ` +
          'Start it with npm start, or point --url at it.',
      );
    }
    if (error instanceof ShopHttpError && error.status === 404) {
      throw new Error(
        `${client.baseUrl}/health is 404: is --url the gateway's /api base (e.g. http://127.0.0.1:3000/api)?`,
      );
    }
    throw error;
  }
}

interface Catalog {
  userId: string;
  productIds: string[];
}

async function createCustomerAndStock(
  client: ShopClient,
  options: LoadOptions,
  runId: string,
): Promise<Catalog> {
  const user = await client.post<{ id: string }>('/users', {
    name: 'Load Tester',
    email: `load-${runId}@example.test`,
  });
  const productIds: string[] = [];
  // Each order takes at most 2 of a product, so this stock never runs out and refuses an order.
  const stockPerProduct = options.orders * 2 + 10;
  for (let index = 1; index <= options.products; index++) {
    const product = await client.post<{ id: string }>('/products', {
      sku: `LOAD-${runId}-${index}`,
      name: `Load test item ${index}`,
      priceCents: 199 + index * 100,
      currency: 'USD',
    });
    await client.post(`/inventory/${encodeURIComponent(product.body.id)}/restock`, {
      quantity: stockPerProduct,
    });
    productIds.push(product.body.id);
  }
  return { userId: user.body.id, productIds };
}

function orderItems(productIds: readonly string[]): Array<{ productId: string; quantity: number }> {
  const first = Math.floor(Math.random() * productIds.length);
  const picks =
    productIds.length > 1 && Math.random() < 0.5 ? [first, (first + 1) % productIds.length] : [first];
  return picks.map((index) => ({
    productId: productIds[index]!,
    quantity: 1 + Math.floor(Math.random() * 2),
  }));
}

/** Why the run stopped placing orders early: the shop is gone or refuses everything. */
let givenUp: string | undefined;
let interrupted = false;
let failuresInARow = 0;
const failuresBeforeGivingUp = 10;

interface OrderView {
  status: string;
  cancelReason?: string;
  /** The orders service's stamps (ISO 8601): exact latency, whatever the polling. */
  placedAt?: string;
  closedAt?: string;
}

async function placeAndFollowOrder(
  client: ShopClient,
  catalog: Catalog,
  token: PaymentToken,
  waitMs: number,
): Promise<OrderResult> {
  const started = performance.now();
  let orderId: string;
  let consistencyToken: string | null;
  try {
    const placed = await client.post<{ orderId: string }>(
      '/orders',
      { userId: catalog.userId, items: orderItems(catalog.productIds), payment: { token } },
      randomUUID(),
    );
    orderId = placed.body.orderId;
    consistencyToken = placed.headers.get('consistency-token');
  } catch (error) {
    if (++failuresInARow >= failuresBeforeGivingUp) {
      givenUp ??= `the last ${failuresBeforeGivingUp} orders could not be placed, the latest: ${(error as Error).message}`;
    }
    return { token, outcome: 'FAILED', reason: (error as Error).message };
  }
  failuresInARow = 0;
  // Reading with the write's token: the answer reflects at least this order's placement.
  const headers: Record<string, string> = consistencyToken ? { 'consistency-token': consistencyToken } : {};
  const deadline = started + waitMs;
  let pollMs = 50;
  let lastProblem = 'still PENDING';
  while (performance.now() < deadline) {
    try {
      const { body } = await client.get<OrderView>(`/orders/${encodeURIComponent(orderId)}`, headers);
      if (body.status === 'CONFIRMED' || body.status === 'CANCELLED') {
        const placedAtMs = body.placedAt ? Date.parse(body.placedAt) : Number.NaN;
        const closedAtMs = body.closedAt ? Date.parse(body.closedAt) : Number.NaN;
        const stamped = Number.isFinite(placedAtMs) && Number.isFinite(closedAtMs);
        return {
          token,
          outcome: body.status,
          // Exact from the stamps; a shop without them gives the polled time, an upper bound.
          latencyMs: stamped ? closedAtMs - placedAtMs : performance.now() - started,
          ...(stamped ? { placedAtMs, closedAtMs } : {}),
          reason: body.cancelReason,
        };
      }
      lastProblem = `still ${body.status}`;
    } catch (error) {
      // Polling again is the retry; a 404 may be a read side that has not caught up yet.
      lastProblem = (error as Error).message;
    }
    await sleep(pollMs);
    pollMs = Math.min(500, pollMs * 1.5); // fine-grained at first, gentle on the shop for slow orders
  }
  return { token, outcome: 'STUCK', reason: `order ${orderId} after ${waitMs} ms: ${lastProblem}` };
}

/** A finished order's result, with when it finished (ms from the start of the run). */
type TimedResult = OrderResult & { finishedAtMs: number };

async function runOrders(client: ShopClient, catalog: Catalog, options: LoadOptions): Promise<TimedResult[]> {
  const tokens = paymentTokenMix(options.orders, options.withTimeouts);
  const results: TimedResult[] = [];
  const runStarted = performance.now();
  const bar = new SingleBar(
    {
      format:
        'orders [{bar}] {value}/{total} | {confirmed} confirmed, {cancelled} cancelled, {trouble} failed/stuck | {eta_formatted} left',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const counts = { confirmed: 0, cancelled: 0, trouble: 0 };
  bar.start(tokens.length, 0, counts);
  let next = 0;
  const runClient = async () => {
    while (next < tokens.length && !givenUp && !interrupted) {
      const token = tokens[next++]!;
      const result = await placeAndFollowOrder(client, catalog, token, options.waitMs);
      results.push({ ...result, finishedAtMs: performance.now() - runStarted });
      if (result.outcome === 'CONFIRMED') counts.confirmed++;
      else if (result.outcome === 'CANCELLED') counts.cancelled++;
      else counts.trouble++;
      bar.increment(1, counts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, tokens.length) }, runClient));
  bar.stop();
  return results;
}

function stampedSpanMs(results: readonly OrderResult[]): number | undefined {
  const finished = results.filter((result) => result.latencyMs !== undefined);
  if (finished.length === 0 || finished.some((result) => result.closedAtMs === undefined)) return undefined;
  const firstPlaced = Math.min(...finished.map((result) => result.placedAtMs!));
  const lastClosed = Math.max(...finished.map((result) => result.closedAtMs!));
  return lastClosed - firstPlaced;
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2));
  const client = new ShopClient(options.url);
  await checkShopIsUp(client);

  const runId = randomUUID().slice(0, 8);
  console.log(
    `Load run ${runId} against ${options.url}: creating a user and ${options.products} products with stock...`,
  );
  const catalog = await createCustomerAndStock(client, options, runId);

  process.once('SIGINT', () => {
    interrupted = true;
    console.error('\nInterrupted: finishing the orders in flight (Ctrl-C again to quit now)...');
    process.once('SIGINT', () => process.exit(130));
  });
  console.log(
    `Placing ${options.orders} orders with ${options.concurrency} clients` +
      `${options.withTimeouts ? ' (including tok_timeout payments)' : ''}...`,
  );
  const cpuBefore = await sampleCpu(client);
  const started = performance.now();
  const startedAtMs = Date.now();
  const results = await runOrders(client, catalog, options);
  const cpuAfter = cpuBefore ? await sampleCpu(client) : undefined;
  // From the first order placed to the last closed, by the orders service's stamps when every
  // finished order has them; else the client's wall clock.
  const elapsedMs = stampedSpanMs(results) ?? performance.now() - started;

  console.log('');
  for (const line of loadReport(results, elapsedMs, options.concurrency)) console.log(line);
  if (cpuBefore && cpuAfter) {
    const finished = results.filter((result) => result.latencyMs !== undefined).length;
    console.log(cpuPerOrderReport(cpuBefore, cpuAfter, finished));
  }
  if (options.soak) {
    const finished = results.flatMap(({ finishedAtMs, closedAtMs, latencyMs }) =>
      latencyMs === undefined
        ? []
        : [{ finishedAtMs: closedAtMs === undefined ? finishedAtMs : closedAtMs - startedAtMs, latencyMs }],
    );
    for (const line of soakReport(soakWindows(finished, soakWindowSize(options.orders)))) console.log(line);
  }
  if (givenUp) {
    console.error(
      `\nStopped early: ${givenUp}.\nIs the shop still running and healthy? ` +
        'Look at the npm start output and DATA_DIR/logs/<service>.log.',
    );
    return 1;
  }
  if (interrupted) console.log(`\nInterrupted after ${results.length} of ${options.orders} orders.`);
  return results.some((result) => isUnexpected(result)) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exitCode = 2;
  } else if (error instanceof ShopHttpError || error instanceof ShopUnreachableError) {
    console.error(
      `Setting up the load run failed: ${error.message}. Is the shop at this URL healthy? ` +
        'Check the npm start output and DATA_DIR/logs/<service>.log.',
    );
    process.exitCode = 1;
  } else {
    console.error((error as Error).message ?? error);
    process.exitCode = 1;
  }
}
