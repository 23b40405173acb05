import { newMessageId, partitionOf, type TransportMessage } from '@causeway/core';
import { describeTransportConformance, describeWithService, serviceUrl } from '@causeway/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteStreams, testWarning, uniqueStreamPrefix } from './nats-test-streams.ts';
import { createNatsTransport } from './nats-transport.ts';

const servers = serviceUrl('nats');
const streamPrefix = uniqueStreamPrefix();
const open = (overrides: { partitions?: number } = {}) =>
  createNatsTransport({ servers, streamPrefix, onWarning: testWarning, ...overrides });

function message(destination: string, orderingKey: string, payload: unknown = {}): TransportMessage {
  return { id: newMessageId(), destination, orderingKey, type: 'test.Checked', payload };
}

describeWithService('nats', 'NATS JetStream transport', () => {
  afterAll(() => deleteStreams(servers, streamPrefix));

  describeTransportConformance('nats', async () => open());
  describeTransportConformance('nats, 2 partitions', async () => open({ partitions: 2 }), { partitions: 2 });

  describe('JetStream layout', () => {
    it('stores a key in the stream of its destination, on the subject of its partition', async () => {
      const transport = open();
      const sent = message('layout.orders', 'order-42');
      await transport.publish([sent]);
      await transport.close();
      const nc = await connect({ servers });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(`${streamPrefix}_layout_orders`, { subjects_filter: '>' });
      expect(info.config.subjects).toEqual([`${streamPrefix}.layout.orders.*`]);
      expect(info.config.storage).toBe('file');
      expect(info.config.duplicate_window).toBe(120_000_000_000);
      expect(info.state.subjects).toEqual({
        [`${streamPrefix}.layout.orders.${partitionOf('order-42')}`]: 1,
      });
      await nc.close();
    });

    it('gives each group one durable consumer per partition, with one unacked message at a time', async () => {
      const transport = open({ partitions: 4 });
      const subscription = await transport.subscribe(
        { group: 'billing.projections', destinations: ['layout.invoices'], ackTimeoutMs: 5_000 },
        async (delivery) => delivery.ack(),
      );
      await subscription.close();
      await transport.close();
      const nc = await connect({ servers });
      const jsm = await jetstreamManager(nc);
      const consumers = [];
      for await (const info of jsm.consumers.list(`${streamPrefix}_layout_invoices`))
        consumers.push(info.config);
      expect(consumers.map((config) => config.durable_name).sort()).toEqual(
        [0, 1, 2, 3].map((partition) => `billing_projections_p${partition}`),
      );
      const first = consumers.find((config) => config.durable_name === 'billing_projections_p0');
      expect(first).toMatchObject({
        filter_subject: `${streamPrefix}.layout.invoices.0`,
        ack_policy: 'explicit',
        ack_wait: 5_000_000_000,
        max_ack_pending: 1,
        max_deliver: -1,
      });
      await nc.close();
    });

    it('warns at connect when the server shows that acks are not fsynced', async () => {
      const warnings: string[] = [];
      const transport = createNatsTransport({
        servers,
        streamPrefix,
        onWarning: (text) => warnings.push(text),
      });
      await transport.publish([message('layout.warnings', 'k')]);
      await transport.close();
      const nc = await connect({ servers });
      const [major = 0, minor = 0] = (nc.info?.version ?? '0.0').split('.').map(Number);
      await nc.close();
      // Without monitorUrl only the version is known: servers before 2.10 cannot fsync per write.
      const expected =
        major < 2 || (major === 2 && minor < 10) ? [expect.stringMatching(/cannot fsync/)] : [];
      expect(warnings).toEqual(expected);
    });

    it('drops a re-published message id within the duplicate window', async () => {
      const transport = open();
      const destination = `dedupe_${newMessageId().slice(-8)}`;
      const sent = message(destination, 'k');
      await transport.publish([sent]);
      await transport.publish([sent, message(destination, 'k')]);
      const received: string[] = [];
      const subscription = await transport.subscribe(
        { group: 'g', destinations: [destination] },
        async (delivery) => {
          received.push(delivery.message.id);
          await delivery.ack();
        },
      );
      await expect.poll(() => received.length).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received[0]).toBe(sent.id);
      expect(received).toHaveLength(2);
      await subscription.close();
      await transport.close();
    });

    it('refuses a destination that is not a NATS subject, before publishing anything', async () => {
      const transport = open();
      await expect(transport.publish([message('bad destination', 'k')])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await transport.close();
    });

    it('refuses to publish after close, with a transport error', async () => {
      const transport = open();
      await transport.close();
      await expect(transport.publish([message('closed', 'k')])).rejects.toMatchObject({
        code: 'TRANSPORT_UNAVAILABLE',
      });
    });

    it('reports an unreachable server as TRANSPORT_UNAVAILABLE', async () => {
      const transport = createNatsTransport({
        servers: 'nats://127.0.0.1:1',
        streamPrefix,
        onWarning: testWarning,
      });
      await expect(transport.publish([message('nowhere', 'k')])).rejects.toMatchObject({
        code: 'TRANSPORT_UNAVAILABLE',
      });
      await transport.close();
    });
  });
});
