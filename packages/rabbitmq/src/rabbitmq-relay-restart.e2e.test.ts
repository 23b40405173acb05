import { describeWithService } from '@causeway/testing';
import { runPipelineAcrossRestart } from '@causeway/testing/messaging-conformance';
import { afterAll, beforeAll, it } from 'vitest';
import { createRabbitMqTransport } from './rabbitmq-transport.ts';
import { startPrivateRabbitMqNode } from './testing/private-rabbitmq-node.ts';

/**
 * The whole pipeline (event store → outbox relay → RabbitMQ → consumer with inbox) across a
 * restart of the RabbitMQ application of a private node (never the shared broker).
 */

const prefix = `cwtest-relay-restart-${process.pid}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithService('rabbitmq', 'relay and consumer over RabbitMQ across a broker restart', () => {
  // A node of its own: restarting the shared broker would stall every other RabbitMQ suite.
  let broker: Awaited<ReturnType<typeof startPrivateRabbitMqNode>>;
  beforeAll(async () => {
    broker = await startPrivateRabbitMqNode();
  }, 120_000);
  afterAll(async () => {
    await broker?.shutdown();
  }, 90_000);

  it('stop_app and start_app mid-run: every event applied once, each stream in order', async () => {
    const outcome = await runPipelineAcrossRestart({
      // The group is declared up front: RabbitMQ drops what is routed to no queue.
      openTransport: () =>
        createRabbitMqTransport({ url: broker.url, prefix, topology: { 'accounts.events': ['b'] } }),
      restart: async () => {
        await broker.stopApp();
        await pause(1_500); // down: the relay cannot publish, the outbox grows
        await broker.startApp();
      },
    });
    console.info(
      `[rabbitmq relay restart] ${outcome.appended} events, ${outcome.appendedDuringRestart} while restarting, caught up ${outcome.caughtUpMs} ms after the restart, ${outcome.relayErrors.length} relay errors (first: ${outcome.relayErrors[0] ?? 'none'})`,
    );
  }, 90_000);
});
