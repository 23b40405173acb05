import { runPipelineAcrossRestart } from '@causeway/testing/messaging-conformance';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithNatsServerBinary, testWarning, uniqueStreamPrefix } from './nats-test-streams.ts';
import { createNatsTransport } from './nats-transport.ts';
import { PrivateNatsServer } from './private-nats-server.ts';

/**
 * The whole pipeline (event store → outbox relay → NATS → consumer with inbox) across a restart
 * of nats-server, killed or stopped and started again on the same port and store directory.
 */

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithNatsServerBinary('relay and consumer over NATS across a broker restart', (binary) => {
  // A server of its own: restarting the shared one would disturb every other NATS suite.
  let server: PrivateNatsServer;
  beforeAll(async () => {
    server = await PrivateNatsServer.start(binary);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function runAcrossRestart(label: string, restart: () => Promise<void>) {
    const streamPrefix = uniqueStreamPrefix();
    const outcome = await runPipelineAcrossRestart({
      openTransport: () => createNatsTransport({ servers: server.url, streamPrefix, onWarning: testWarning }),
      restart,
    });
    // A publish in flight at the drop, or issued while disconnected, fails at the latest when the
    // connection is re-established (nats-connection-events.ts), not after the request timeout.
    expect(
      outcome.relayErrorsDuringRestart,
      'the relay saw publishes fail while the broker was away',
    ).toBeGreaterThan(0);
    console.info(
      `[nats relay restart] ${label}: ${outcome.appended} events, ${outcome.appendedDuringRestart} while restarting, caught up ${outcome.caughtUpMs} ms after the restart, ${outcome.relayErrors.length} relay errors (first: ${outcome.relayErrors[0] ?? 'none'})`,
    );
  }

  it('SIGKILL of nats-server mid-run: every event applied once, each stream in order', async () => {
    await runAcrossRestart('SIGKILL', async () => {
      await server.kill();
      await pause(1_500); // down: the relay cannot publish, the outbox grows
      await server.start();
    });
  }, 60_000);

  it('graceful stop (SIGTERM) and start of nats-server mid-run: every event applied once, in order', async () => {
    await runAcrossRestart('SIGTERM', async () => {
      await server.terminate();
      await pause(1_500);
      await server.start();
    });
  }, 60_000);
});
