/**
 * The relay alone: a backlog of outbox rows (written by 8 producers through the event store, as
 * in the pipeline) drained to the broker, by the polling relay (claim, publish, mark) and by the
 * WAL-fed relay (the slot's stream, publish, acknowledge), one after the other on the same server.
 * No consumer: the figure is messages the broker confirmed per second, from the relay's start.
 */
import { performance } from 'node:perf_hooks';
import { createEventStore, createOutboxRelay, type Transport } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { createWalOutboxRelay } from '@causeway/postgres-cdc';
import pg from 'pg';
import { pause } from '../support/measure.ts';
import { startProgress } from '../support/progress.ts';
import { producers, type RelayKind } from './pipeline.ts';
import { pipelineRegistry, transferNote, transferSent } from './pipeline-events.ts';
import { openTransport, type PipelineSpec, removeBrokerState } from './setup.ts';

/** The transport, counting what the broker confirmed. */
function counted(transport: Transport) {
  let confirmed = 0;
  const wrapped: Transport = {
    name: transport.name,
    async publish(messages) {
      await transport.publish(messages);
      confirmed += messages.length;
    },
    subscribe: (options, handler) => transport.subscribe(options, handler),
    close: () => transport.close(),
  };
  return { transport: wrapped, confirmed: () => confirmed };
}

/** A checkpoint first: the runs before left dirty pages that would slow the next one. */
export async function checkpoint(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** Messages per second the relay of `kind` publishes out of a backlog of `messages`. */
export async function relayDrainRate(
  kind: RelayKind,
  spec: PipelineSpec,
  databaseUrl: string,
  messages: number,
): Promise<number> {
  const schema = `drain_${kind}`;
  const store = await createPostgresStore({ connectionString: databaseUrl, schema, poolSize: producers + 2 });
  const eventStore = createEventStore({ store, registry: pipelineRegistry });
  const broker = counted(openTransport(spec));
  const wal =
    kind === 'wal'
      ? createWalOutboxRelay({
          connectionString: databaseUrl,
          schema,
          transport: broker.transport,
          slot: `${spec.prefix}_drain`.toLowerCase(),
        })
      : null;
  const polling = kind === 'polling' ? createOutboxRelay({ store, transport: broker.transport }) : null;
  try {
    // The slot exists before the backlog is written, so the backlog is streamed, not copied.
    await wal?.start();
    await wal?.stop();
    let next = 0;
    await Promise.all(
      Array.from({ length: producers }, async (_, producer) => {
        for (let seq = next++; seq < messages; seq = next++)
          await eventStore.appendToStream(
            `drain-${producer}-${seq % 8}`,
            [{ type: transferSent.type, data: { seq, note: transferNote } }],
            { publishTo: spec.destination },
          );
      }),
    );
    await checkpoint(databaseUrl);
    const progress = startProgress(`${kind} relay drain`, messages);
    // The clock starts once the relay runs: the WAL relay's start (connecting, checking the
    // slot and the publication) is paid once per process, not per message.
    if (wal) await wal.start();
    polling?.start();
    const started = performance.now();
    const confirmedAtStart = broker.confirmed();
    while (broker.confirmed() < messages) {
      progress.update(broker.confirmed());
      await pause(2);
    }
    const seconds = (performance.now() - started) / 1000;
    progress.stop();
    return (messages - confirmedAtStart) / seconds;
  } finally {
    await polling?.stop();
    await wal?.drop();
    await broker.transport.close();
    await store.close();
    await removeBrokerState(spec).catch(() => {});
  }
}
