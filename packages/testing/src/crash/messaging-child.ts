/**
 * Child process for messaging crash tests: `relay` publishes service A's outbox; `consumer`
 * applies events to service B's database (a counter and the last position per stream, in the
 * handler's transaction). The parent SIGKILLs and restarts these at random moments.
 * Usage: messaging-child <relay|consumer> <storeFile> <transportFile> <destination>
 */
import { createConsumer, createOutboxRelay } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { registry } from '../event-store-conformance/fixtures.ts';

const [role, storeFile, transportFile, destination] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const store = await createSqliteStore({ filename: storeFile });
const transport = createEmbeddedTransport({ filename: transportFile });

if (role === 'relay') {
  createOutboxRelay({ store, transport, batchSize: 20, idlePollMs: 20 }).start();
} else {
  await store.transaction((tx) =>
    tx.execute(
      'CREATE TABLE IF NOT EXISTS applied (stream_id TEXT PRIMARY KEY, count INTEGER NOT NULL, last_position INTEGER NOT NULL, out_of_order INTEGER NOT NULL)',
    ),
  );
  const consumer = createConsumer({
    name: 'b',
    store,
    transport,
    destinations: [destination],
    registry,
    ackTimeoutMs: 1000,
    backoff: { initialMs: 20, maxMs: 200 },
    handlers: {
      'test.Deposited': async (message, { tx }) => {
        const [row] = await tx.query<{ count: number; last_position: number; out_of_order: number }>(
          'SELECT * FROM applied WHERE stream_id = $1',
          [message.streamId],
        );
        const inOrder = message.streamPosition === (row?.last_position ?? 0) + 1;
        await tx.execute(
          `INSERT INTO applied (stream_id, count, last_position, out_of_order) VALUES ($1, 1, $2, $3)
           ON CONFLICT (stream_id) DO UPDATE SET count = count + 1, last_position = $2, out_of_order = out_of_order + $3`,
          [message.streamId, message.streamPosition, inOrder ? 0 : 1],
        );
      },
    },
  });
  await consumer.start();
}
process.stdout.write('ready\n');
