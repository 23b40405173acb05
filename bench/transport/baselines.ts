/**
 * The broker's own publish → consume figures, with the client library Causeway's transport uses
 * and no database. Rate: messages of the pipeline's size published by 8 publishers (windows of
 * 100 awaited together, as the relay does), consumed and acked one by one, from the first publish
 * to the last ack. Latency: one message at a time on the idle broker, publish → consumed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { connect as connectAmqp } from 'amqplib';
import Database from 'better-sqlite3';
import { pause } from '../support/measure.ts';
import { transferNote } from './pipeline-events.ts';
import { natsUrl, rabbitMqUrl } from './setup.ts';

const publishers = 8;
const window = 100;

/** About the size of a relayed message (envelope with ids, type, times and data). */
function payload(seq: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: `0190d3c2-0000-7000-8000-${String(seq).padStart(12, '0')}`,
      type: 'bench.TransferSent',
      streamId: `transfer-${seq % 64}`,
      occurredAt: new Date().toISOString(),
      data: { seq, note: transferNote },
    }),
  );
}

/** A raw publish → consume path on one broker: publish resolves when confirmed; consumed messages are counted. */
interface RawChannel {
  publish(seqs: readonly number[]): Promise<void>;
  /** Messages consumed (and acked) so far. */
  consumed(): number;
  close(): Promise<void>;
}

export interface RawFigures {
  rate: number;
  /** Sorted single-message publish → consumed latencies in ms. */
  latencies: number[];
}

function waitUntil(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline)
        return reject(new Error(`baseline: ${what} did not finish in ${timeoutMs} ms`));
      setImmediate(tick);
    };
    tick();
  });
}

async function measureRaw(
  channel: RawChannel,
  options: { messages: number; samples: number },
): Promise<RawFigures> {
  try {
    // Warm-up: connections, the queue's first segment, the JIT.
    await channel.publish(Array.from({ length: window }, (_, index) => index));
    await waitUntil(() => channel.consumed() === window, 'warm-up');
    const first = window;
    let next = first;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: publishers }, async () => {
        while (next < first + options.messages) {
          const seqs: number[] = [];
          while (seqs.length < window && next < first + options.messages) seqs.push(next++);
          await channel.publish(seqs);
        }
      }),
    );
    await waitUntil(() => channel.consumed() === first + options.messages, 'consume');
    const rate = options.messages / ((performance.now() - start) / 1000);
    const latencies: number[] = [];
    for (let sample = 0; sample < options.samples; sample++) {
      const target = channel.consumed() + 1;
      const sentAt = performance.now();
      await channel.publish([next++]);
      await waitUntil(() => channel.consumed() >= target, 'single message');
      latencies.push(performance.now() - sentAt);
      await pause(2);
    }
    return { rate, latencies: latencies.sort((a, b) => a - b) };
  } finally {
    await channel.close();
  }
}

async function natsChannel(prefix: string): Promise<RawChannel> {
  const nc = await connectNats({ servers: natsUrl });
  const stream = `${prefix}_RAW`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.raw`] });
  await jsm.consumers.add(stream, {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1000,
  });
  const js = jetstream(nc);
  const feed = await (await js.consumers.get(stream, 'raw')).consume({ max_messages: 500 });
  let consumed = 0;
  void (async () => {
    for await (const message of feed) {
      message.ack();
      consumed++;
    }
  })();
  return {
    publish: async (seqs) => {
      await Promise.all(seqs.map((seq) => js.publish(`${prefix}.raw`, payload(seq))));
    },
    consumed: () => consumed,
    async close() {
      feed.stop();
      await jsm.streams.delete(stream).catch(() => {});
      await nc.close();
    },
  };
}

async function rabbitMqChannel(prefix: string): Promise<RawChannel> {
  const connection = await connectAmqp(rabbitMqUrl, { noDelay: true });
  const queue = `${prefix}.raw`;
  const publishChannel = await connection.createConfirmChannel();
  await publishChannel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const consumeChannel = await connection.createChannel();
  await consumeChannel.prefetch(500);
  let consumed = 0;
  await consumeChannel.consume(queue, (message) => {
    if (!message) return;
    consumeChannel.ack(message);
    consumed++;
  });
  return {
    publish: async (seqs) => {
      for (const seq of seqs) publishChannel.sendToQueue(queue, payload(seq), { persistent: true });
      await publishChannel.waitForConfirms();
    },
    consumed: () => consumed,
    async close() {
      await consumeChannel.close();
      await publishChannel.deleteQueue(queue).catch(() => {});
      await connection.close();
    },
  };
}

/**
 * The embedded transport's engine is SQLite: a publish inserts its rows in one transaction
 * (synchronous=FULL, as the transport's file); the consumer reads them in order and moves its
 * cursor in one transaction per message (its ack).
 */
async function sqliteChannel(): Promise<RawChannel> {
  const directory = mkdtempSync(join(tmpdir(), 'causeway-bench-raw-log-'));
  const open = () => {
    const db = new Database(join(directory, 'log.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    return db;
  };
  const writer = open();
  writer.exec(
    'CREATE TABLE log (position INTEGER PRIMARY KEY, body BLOB NOT NULL); CREATE TABLE cursor (position INTEGER NOT NULL); INSERT INTO cursor VALUES (0);',
  );
  const reader = open();
  const insert = writer.prepare('INSERT INTO log (body) VALUES (?)');
  const publishRows = writer.transaction((seqs: readonly number[]) => {
    for (const seq of seqs) insert.run(payload(seq));
  });
  const read = reader.prepare('SELECT position FROM log WHERE position > ? ORDER BY position LIMIT 500');
  const ack = reader.prepare('UPDATE cursor SET position = ?');
  let consumed = 0;
  let position = 0;
  let open_ = true;
  const consuming = (async () => {
    while (open_) {
      const rows = read.all(position) as Array<{ position: number }>;
      for (const row of rows) {
        ack.run(row.position);
        position = row.position;
        consumed++;
      }
      // Poll every millisecond when caught up, as a consumer of a file would.
      await (rows.length === 0 ? pause(1) : new Promise((resolve) => setImmediate(resolve)));
    }
  })();
  return {
    publish: async (seqs) => {
      publishRows(seqs);
      await new Promise((resolve) => setImmediate(resolve));
    },
    consumed: () => consumed,
    async close() {
      open_ = false;
      await consuming;
      writer.close();
      reader.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function rawBrokerFigures(
  transport: 'embedded' | 'nats' | 'rabbitmq',
  options: { messages: number; samples: number; prefix: string },
): Promise<RawFigures> {
  const channel =
    transport === 'nats'
      ? await natsChannel(options.prefix)
      : transport === 'rabbitmq'
        ? await rabbitMqChannel(options.prefix)
        : await sqliteChannel();
  return measureRaw(channel, options);
}
