import { newMessageId, type TransportMessage } from '@causeway/core';
import { describeWithService, serviceUrl } from '@causeway/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, expect, it } from 'vitest';
import { createNatsNames } from './nats-names.ts';
import { deleteStreams, testWarning, uniqueStreamPrefix } from './nats-test-streams.ts';
import { createNatsTransport, type NatsTransportOptions } from './nats-transport.ts';

const servers = serviceUrl('nats');
const streamPrefix = uniqueStreamPrefix();
const nanosPerMs = 1_000_000;
const day = 24 * 60 * 60 * 1000;

function message(destination: string, payload: unknown = {}): TransportMessage {
  return { id: newMessageId(), destination, orderingKey: 'k', type: 'test.Retained', payload };
}

/** Publishes one message through a new transport (which ensures the stream), then closes it. */
async function publishWith(options: Partial<NatsTransportOptions>, destination: string): Promise<void> {
  const transport = createNatsTransport({ servers, streamPrefix, onWarning: testWarning, ...options });
  try {
    await transport.publish([message(destination)]);
  } finally {
    await transport.close();
  }
}

async function streamInfo(destination: string) {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    return await jsm.streams.info(createNatsNames(streamPrefix).streamName(destination));
  } finally {
    await nc.close();
  }
}

describeWithService('nats', 'NATS JetStream transport retention', () => {
  afterAll(() => deleteStreams(servers, streamPrefix));

  it('creates streams with max_age 7 days and discard old by default', async () => {
    await publishWith({}, 'retention.default');
    const { config } = await streamInfo('retention.default');
    expect(config.max_age).toBe(7 * day * nanosPerMs);
    expect(config.discard).toBe('old');
    expect(config.retention).toBe('limits');
  });

  it('applies a changed maxAgeMs to an existing stream, and Infinity as no limit', async () => {
    await publishWith({ maxAgeMs: 2 * day }, 'retention.changed');
    expect((await streamInfo('retention.changed')).config.max_age).toBe(2 * day * nanosPerMs);
    await publishWith({ maxAgeMs: 3 * day }, 'retention.changed');
    const info = await streamInfo('retention.changed');
    expect(info.config.max_age).toBe(3 * day * nanosPerMs);
    // The update kept the messages and the other settings.
    expect(info.state.messages).toBe(2);
    expect(info.config.duplicate_window).toBe(120_000 * nanosPerMs);
    await publishWith({ maxAgeMs: Number.POSITIVE_INFINITY }, 'retention.changed');
    expect((await streamInfo('retention.changed')).config.max_age).toBe(0);
  });

  it('lets JetStream delete messages past maxAgeMs', async () => {
    await publishWith({ maxAgeMs: 1_000, duplicateWindowMs: 1_000 }, 'retention.expiring');
    expect((await streamInfo('retention.expiring')).state.messages).toBe(1);
    const deadline = Date.now() + 10_000;
    while ((await streamInfo('retention.expiring')).state.messages > 0) {
      if (Date.now() > deadline) throw new Error('JetStream kept a message past max_age');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  it('refuses a maxAgeMs shorter than the duplicate window', () => {
    expect(() => createNatsTransport({ servers, streamPrefix, maxAgeMs: 60_000 })).toThrow(
      /maxAgeMs must be an integer of at least duplicateWindowMs \(120000 ms\)/,
    );
    expect(() => createNatsTransport({ servers, streamPrefix, maxAgeMs: 0 })).toThrow(/maxAgeMs/);
  });
});
