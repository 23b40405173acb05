/**
 * The metrics over a real SQLite store and the embedded transport, read back as Prometheus's text
 * format: the outbox backlog and its age before the relay runs and after, what the relay published,
 * dead letters by status (the waiting ones at 0 too), sagas by status, consumer lag by group, and
 * handling time by outcome.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConcurrencyError,
  createEventRegistry,
  createEventStore,
  createMemoryCache,
  createOutboxRelay,
  createReadThrough,
  defineEvent,
  newMessageId,
  type Store,
} from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerCausewayMetrics, reportReadThrough, timeAppends, timeDeliveries } from './index.ts';

const noted = defineEvent({ type: 'test.Noted', schema: z.object({ n: z.number() }) });
const registry = createEventRegistry([noted]);

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

async function openStore(): Promise<{ store: Store; directory: string }> {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-metrics-'));
  const store = await createSqliteStore({ filename: join(directory, 'service.db') });
  closing.push(() => store.close());
  return { store, directory };
}

/** One sample's value from the text format, by metric name and labels as written there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('registerCausewayMetrics', () => {
  it('reports the outbox backlog and its age, then what the relay published once it ran', async () => {
    const { store, directory } = await openStore();
    const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db') });
    closing.push(() => transport.close());
    const relay = createOutboxRelay({ store, transport });
    const metrics = new Registry();
    registerCausewayMetrics({ registry: metrics, store, relay });
    const events = createEventStore({ store, registry });
    for (let n = 0; n < 3; n++)
      await events.appendToStream(`s-${n}`, [{ type: 'test.Noted', data: { n } }], {
        publishTo: 'test.noted',
      });
    await new Promise((resolve) => setTimeout(resolve, 20));

    const before = await metrics.metrics();
    expect(sample(before, 'causeway_outbox_backlog_messages')).toBe(3);
    expect(sample(before, 'causeway_outbox_oldest_age_seconds')).toBeGreaterThan(0.01);
    expect(sample(before, 'causeway_outbox_published_total')).toBe(0);
    expect(before).toContain('# TYPE causeway_outbox_published_total counter');

    expect(await relay.drain()).toBe(3);
    const after = await metrics.metrics();
    expect(sample(after, 'causeway_outbox_backlog_messages')).toBe(0);
    expect(sample(after, 'causeway_outbox_oldest_age_seconds')).toBe(0);
    expect(sample(after, 'causeway_outbox_published_total')).toBe(3);
    // A counter: a second scrape neither counts them again nor goes back.
    expect(sample(await metrics.metrics(), 'causeway_outbox_published_total')).toBe(3);
  });

  it('reports dead letters and sagas by status (the waiting dead letters at 0 before any), and sagas past their timer', async () => {
    const { store } = await openStore();
    const metrics = new Registry();
    registerCausewayMetrics({ registry: metrics, store });
    const empty = await metrics.metrics();
    expect(sample(empty, 'causeway_dead_letters{status="dead"}')).toBe(0);
    expect(sample(empty, 'causeway_dead_letters{status="parked"}')).toBe(0);
    expect(sample(empty, 'causeway_sagas{status="running"}')).toBe(0);
    expect(sample(empty, 'causeway_sagas_overdue')).toBe(0);

    const deadLetter = (orderingKey: string, status: 'dead' | 'parked') => ({
      consumer: 'payments',
      messageId: newMessageId(),
      orderingKey,
      message: {},
      reason: 'card service down',
      attempts: 3,
      status,
    });
    await store.deadLetters.put(null, deadLetter('k-1', 'dead'));
    await store.deadLetters.put(null, deadLetter('k-1', 'parked'));
    await store.deadLetters.put(null, deadLetter('k-1', 'parked'));
    const text = await metrics.metrics();
    expect(sample(text, 'causeway_dead_letters{status="dead"}')).toBe(1);
    expect(sample(text, 'causeway_dead_letters{status="parked"}')).toBe(2);

    // Two running sagas: one whose timer came due a minute ago and never fired, one due 5 s ago.
    const saga = (sagaId: string, dueMsAgo: number) => ({
      sagaId,
      sagaName: 'PlaceOrder',
      status: 'running' as const,
      data: {},
      stepIndex: 0,
      steps: [],
      wakeAt: new Date(Date.now() - dueMsAgo).toISOString(),
      reason: null,
      correlationId: sagaId,
    });
    await store.transaction(async (tx) => {
      await store.sagas.insert(tx, saga('stuck', 60_000));
      await store.sagas.insert(tx, saga('on-time', 5_000));
    });
    const withSagas = await metrics.metrics();
    expect(sample(withSagas, 'causeway_sagas{status="running"}')).toBe(2);
    expect(sample(withSagas, 'causeway_sagas_overdue')).toBe(1);
  });

  it('serves the rest when the store is out of reach: what it cannot read is NaN or left out, and counted', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'causeway-metrics-'));
    const store = await createSqliteStore({ filename: join(directory, 'service.db') });
    const metrics = new Registry();
    registerCausewayMetrics({ registry: metrics, store });
    expect(sample(await metrics.metrics(), 'causeway_outbox_backlog_messages')).toBe(0);
    await store.close();
    const text = await metrics.metrics();
    expect(sample(text, 'causeway_outbox_backlog_messages')).toBeNaN();
    expect(sample(text, 'causeway_dead_letters{status="dead"}')).toBeUndefined();
    // Counted as they happen: the count a scrape shows is that of the scrapes before it.
    const next = await metrics.metrics();
    expect(
      sample(next, 'causeway_metrics_scrape_errors_total{metric="causeway_outbox_backlog_messages"}'),
    ).toBe(1);
    expect(sample(next, 'causeway_metrics_scrape_errors_total{metric="causeway_sagas"}')).toBe(1);
  });

  it("reports the consumer lag of the transport's groups: what a group has not acked, 0 once it has", async () => {
    const { store, directory } = await openStore();
    const embedded = createEmbeddedTransport({ filename: join(directory, 'transport.db') });
    closing.push(() => embedded.close());
    const metrics = new Registry();
    // Timed first, as a service wires it: the timed transport keeps consumerLag.
    const transport = timeDeliveries(embedded, { registry: metrics });
    registerCausewayMetrics({ registry: metrics, store, transport });
    const series = 'causeway_consumer_lag_messages{consumer="payments",destination="payments.commands"}';
    expect(sample(await metrics.metrics(), series)).toBeUndefined();

    const options = { group: 'payments', destinations: ['payments.commands'] };
    // Subscribed, then stopped (a consumer that is down): its backlog is what the gauge is for.
    await (await transport.subscribe(options, (delivery) => delivery.ack())).close();
    expect(sample(await metrics.metrics(), series)).toBe(0);
    const message = (orderingKey: string) => ({
      id: newMessageId(),
      destination: 'payments.commands',
      orderingKey,
      type: 'payments.Charge',
      payload: {},
    });
    await transport.publish([message('order-1'), message('order-2'), message('order-1')]);
    expect(sample(await metrics.metrics(), series)).toBe(3);

    const subscription = await transport.subscribe(options, (delivery) => delivery.ack());
    closing.push(() => subscription.close());
    await expect.poll(async () => sample(await metrics.metrics(), series)).toBe(0);

    await embedded.close();
    expect(sample(await metrics.metrics(), series)).toBeUndefined();
    expect(
      sample(
        await metrics.metrics(),
        'causeway_metrics_scrape_errors_total{metric="causeway_consumer_lag_messages"}',
      ),
    ).toBe(1);
  });

  it('reports no consumer lag for a transport without consumerLag', async () => {
    const { store } = await openStore();
    const metrics = new Registry();
    const transport = {
      name: 'plain',
      publish: async () => {},
      subscribe: async () => ({ close: async () => {} }),
      close: async () => {},
    };
    registerCausewayMetrics({ registry: metrics, store, transport });
    expect(await metrics.metrics()).not.toContain('causeway_consumer_lag_messages');
  });

  it('times every delivery of a timed transport by consumer, type and outcome: acked, retried or failed', async () => {
    const { directory } = await openStore();
    const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db') });
    closing.push(() => transport.close());
    const metrics = new Registry();
    const timed = timeDeliveries(transport, { registry: metrics });
    const seen: string[] = [];
    const subscription = await timed.subscribe(
      { group: 'payments', destinations: ['payments.commands'] },
      async (delivery) => {
        const { type } = delivery.message;
        seen.push(`${type}#${delivery.attempt}`);
        if (type === 'payments.Refund' && delivery.attempt === 1) throw new Error('card service down');
        if (type === 'payments.Refund' && delivery.attempt === 2) return delivery.retry(1);
        return delivery.ack();
      },
    );
    closing.push(() => subscription.close());
    const message = (type: string) => ({
      id: newMessageId(),
      destination: 'payments.commands',
      orderingKey: 'order-1',
      type,
      payload: '{}',
    });
    await timed.publish([message('payments.Charge'), message('payments.Refund'), message('payments.Charge')]);
    await expect.poll(() => seen.filter((each) => each.startsWith('payments.Charge')).length).toBe(2);
    await expect.poll(() => seen).toContain('payments.Refund#3');
    const text = await metrics.metrics();
    const count = (type: string, outcome: string) =>
      sample(
        text,
        `causeway_message_handling_seconds_count{consumer="payments",type="${type}",outcome="${outcome}"}`,
      );
    expect(count('payments.Charge', 'acked')).toBe(2);
    expect(count('payments.Refund', 'error')).toBe(1);
    expect(count('payments.Refund', 'retried')).toBe(1);
    expect(count('payments.Refund', 'acked')).toBe(1);
    expect(text).toContain('# TYPE causeway_message_handling_seconds histogram');
    // Timing a transport twice into one registry shares the histogram.
    expect(() => timeDeliveries(transport, { registry: metrics })).not.toThrow();
  });

  it('times appends by outcome: ok, and conflict when the expected version did not hold', async () => {
    const { store } = await openStore();
    const metrics = new Registry();
    const events = timeAppends(createEventStore({ store, registry }), { registry: metrics });
    await events.appendToStream('s-1', [{ type: 'test.Noted', data: { n: 1 } }], {
      expectedVersion: 'noStream',
    });
    await expect(
      events.appendToStream('s-1', [{ type: 'test.Noted', data: { n: 2 } }], { expectedVersion: 'noStream' }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await events.readStream('s-1')).map((event) => event.data.n)).toEqual([1]);
    const text = await metrics.metrics();
    expect(sample(text, 'causeway_append_seconds_count{outcome="ok"}')).toBe(1);
    expect(sample(text, 'causeway_append_seconds_count{outcome="conflict"}')).toBe(1);
  });

  it("counts a read-through cache's hits, misses and loads from its own stats", async () => {
    const metrics = new Registry();
    let loads = 0;
    const reader = createReadThrough({
      cache: createMemoryCache(),
      ttlMs: 60_000,
      load: async () => ({ value: { name: 'Green tea' }, version: ++loads }),
    });
    reportReadThrough(metrics, 'products', reader);
    expect(sample(await metrics.metrics(), 'causeway_cache_reads_total{cache="products",result="hit"}')).toBe(
      0,
    );
    for (let i = 0; i < 3; i++) await reader.get('p-1');
    const text = await metrics.metrics();
    expect(sample(text, 'causeway_cache_reads_total{cache="products",result="miss"}')).toBe(1);
    expect(sample(text, 'causeway_cache_reads_total{cache="products",result="hit"}')).toBe(2);
    expect(sample(text, 'causeway_cache_loads_total{cache="products"}')).toBe(1);
    // Read again: counted once, not again.
    expect(sample(await metrics.metrics(), 'causeway_cache_reads_total{cache="products",result="hit"}')).toBe(
      2,
    );
  });
});
