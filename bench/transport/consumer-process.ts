/**
 * Service B of a pipeline run, in its own process (as in production): a consumer that applies
 * every message in one transaction (inbox receipt + one row of effect) and then acks. It reports
 * to the parent, over IPC, the sequence number of each handled message and when its transaction
 * had committed (the moment the ack is sent).
 * Usage: forked by pipeline.ts with the PipelineSpec as JSON in argv[2].
 */
import { performance } from 'node:perf_hooks';
import { createConsumer, type Transport } from '@causeway/core';
import { pipelineRegistry, transferSent } from './pipeline-events.ts';
import { openStore, openTransport, type PipelineSpec } from './setup.ts';

export type ConsumerReport = { kind: 'ready' } | { kind: 'handled'; seqs: number[]; handledAt: number[] };
/** Parent → child: stop and exit. */
export type ConsumerCommand = { kind: 'stop' };

const spec = JSON.parse(process.argv[2]!) as PipelineSpec;
const send = (report: ConsumerReport) => process.send?.(report);
const wallClock = () => performance.timeOrigin + performance.now();

let pending: { seqs: number[]; handledAt: number[] } = { seqs: [], handledAt: [] };
const flusher = setInterval(() => {
  if (pending.seqs.length === 0) return;
  send({ kind: 'handled', ...pending });
  pending = { seqs: [], handledAt: [] };
}, 25);

/** The transport as the consumer sees it, except that each ack first notes the message as handled. */
function recordingAcks(transport: Transport): Transport {
  return {
    ...transport,
    name: transport.name,
    publish: (messages) => transport.publish(messages),
    close: () => transport.close(),
    subscribe: (options, handler) =>
      transport.subscribe(options, (delivery) =>
        handler({
          message: delivery.message,
          attempt: delivery.attempt,
          retry: (delayMs) => delivery.retry(delayMs),
          ack: () => {
            const { data } = delivery.message.payload as { data: { seq: number } };
            pending.seqs.push(data.seq);
            pending.handledAt.push(wallClock());
            return delivery.ack();
          },
        }),
      ),
  };
}

const store = await openStore(spec.consumer, spec.maxInFlight + 2);
await store.transaction((tx) =>
  tx.execute('CREATE TABLE IF NOT EXISTS bench_effects (seq BIGINT PRIMARY KEY, stream_id TEXT NOT NULL)'),
);
const transport = openTransport(spec);
const consumer = createConsumer({
  name: spec.group,
  store,
  transport: recordingAcks(transport),
  destinations: [spec.destination],
  registry: pipelineRegistry,
  maxInFlight: spec.maxInFlight,
  handlers: {
    [transferSent.type]: async (message, { tx }) => {
      const { seq } = message.data as { seq: number };
      await tx.execute('INSERT INTO bench_effects (seq, stream_id) VALUES ($1, $2)', [seq, message.streamId]);
    },
  },
});
await consumer.start();
send({ kind: 'ready' });

process.on('message', async (command: ConsumerCommand) => {
  if (command.kind !== 'stop') return;
  await consumer.stop();
  clearInterval(flusher);
  await transport.close();
  await store.close();
  process.exit(0);
});
