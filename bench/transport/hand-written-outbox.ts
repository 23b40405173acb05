/**
 * The reference the issue names: a plain hand-written polling outbox on PostgreSQL + NATS, the
 * way a team writes one without a library. Producers insert the event and its outbox row in one
 * transaction; a poller claims 100 rows (FOR UPDATE SKIP LOCKED), publishes them to JetStream,
 * awaits the acks and marks them sent; a consumer handles each message in its own transaction
 * (inbox row + effect row) and acks. Same 8 producers, same rows and same server as the pipeline.
 */
import { performance } from 'node:perf_hooks';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pause } from '../support/measure.ts';
import { producers } from './pipeline.ts';
import { transferNote } from './pipeline-events.ts';
import { natsUrl } from './setup.ts';

const schema = `
CREATE SCHEMA IF NOT EXISTS hand;
CREATE TABLE hand.events (id bigserial PRIMARY KEY, stream_id text NOT NULL, data jsonb NOT NULL);
CREATE TABLE hand.outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL, sent boolean NOT NULL DEFAULT false);
CREATE INDEX ON hand.outbox (id) WHERE NOT sent;
CREATE TABLE hand.inbox (message_id text PRIMARY KEY);
CREATE TABLE hand.effects (seq bigint PRIMARY KEY);`;

/** Messages per second from the first commit to the last handled, for `messages` messages. */
export async function handWrittenOutboxRate(
  databaseUrl: string,
  prefix: string,
  messages: number,
): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: producers + 4 });
  // An idle client's error (the database dropped under it) must not crash the bench.
  pool.on('error', () => {});
  const nc = await connect({ servers: natsUrl });
  const stream = `${prefix}_HAND`;
  const jsm = await jetstreamManager(nc);
  try {
    await pool.query(schema);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.hand`] });
    await jsm.consumers.add(stream, {
      durable_name: 'hand',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 64,
    });
    const js = jetstream(nc);

    let handled = 0;
    const feed = await (await js.consumers.get(stream, 'hand')).consume({ max_messages: 64 });
    const consuming = (async () => {
      for await (const message of feed) {
        const { id, seq } = message.json<{ id: string; seq: number }>();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const inserted = await client.query('INSERT INTO hand.inbox VALUES ($1) ON CONFLICT DO NOTHING', [
            id,
          ]);
          if (inserted.rowCount === 1) await client.query('INSERT INTO hand.effects VALUES ($1)', [seq]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        message.ack();
        if (++handled === messages) break;
      }
    })();

    let polling = true;
    const poller = (async () => {
      while (polling) {
        const client = await pool.connect();
        let sent = 0;
        try {
          await client.query('BEGIN');
          const { rows } = await client.query<{ id: string; payload: unknown }>(
            'SELECT id, payload FROM hand.outbox WHERE NOT sent ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED',
          );
          await Promise.all(rows.map((row) => js.publish(`${prefix}.hand`, JSON.stringify(row.payload))));
          if (rows.length > 0) {
            await client.query('UPDATE hand.outbox SET sent = true WHERE id = ANY ($1::bigint[])', [
              rows.map((row) => row.id),
            ]);
          }
          await client.query('COMMIT');
          sent = rows.length;
        } finally {
          client.release();
        }
        if (sent === 0) await pause(10);
      }
    })();

    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: producers }, async (_, producer) => {
        const client = await pool.connect();
        try {
          for (let turn = 0; next < messages; turn++) {
            const seq = next++;
            const streamId = `transfer-${producer}-${turn % 8}`;
            const data = { seq, note: transferNote };
            await client.query('BEGIN');
            await client.query('INSERT INTO hand.events (stream_id, data) VALUES ($1, $2)', [streamId, data]);
            await client.query('INSERT INTO hand.outbox (payload) VALUES ($1)', [
              { id: `${prefix}-${seq}`, seq, streamId, data },
            ]);
            await client.query('COMMIT');
          }
        } finally {
          client.release();
        }
      }),
    );
    const deadline = Date.now() + 180_000;
    while (handled < messages && Date.now() < deadline) await pause(5);
    const elapsedMs = performance.now() - start;
    polling = false;
    await poller;
    feed.stop();
    await consuming;
    if (handled < messages)
      throw new Error(`hand-written outbox: ${handled} of ${messages} handled in 180 s`);
    return messages / (elapsedMs / 1000);
  } finally {
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
    await pool.query('DROP SCHEMA IF EXISTS hand CASCADE').catch(() => {});
    await pool.end();
  }
}
