import { createServer, type Socket } from 'node:net';
import { InvalidArgumentError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { createRabbitMqTransport } from './rabbitmq-transport.ts';

describe('createRabbitMqTransport options', () => {
  const url = 'amqp://guest:guest@127.0.0.1:1';

  it('rejects a partition count partitionOf cannot use', () => {
    expect(() => createRabbitMqTransport({ url, partitions: 0 })).toThrow(InvalidArgumentError);
    expect(() => createRabbitMqTransport({ url, partitions: 1.5 })).toThrow(/integer from 1 to 4096/);
  });

  it('rejects a prefix that would make queue names ambiguous', () => {
    expect(() => createRabbitMqTransport({ url, prefix: 'a.b' })).toThrow(/prefix must match/);
  });

  it('rejects publish with TRANSPORT_UNAVAILABLE when the broker cannot be reached', async () => {
    const transport = createRabbitMqTransport({ url, connectTimeoutMs: 300 });
    const message = { id: 'm1', destination: 'orders', orderingKey: 'k', type: 't', payload: {} };
    await expect(transport.publish([message])).rejects.toMatchObject({
      code: 'TRANSPORT_UNAVAILABLE',
      message: expect.stringContaining('amqp://guest:***@127.0.0.1:1'),
    });
    await transport.close();
  });

  it('says a broker that accepts the connection and never answers may be out of file handles', async () => {
    // What a broker at its open-files limit does: the TCP connection opens, the AMQP handshake never comes.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const transport = createRabbitMqTransport({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      connectTimeoutMs: 300,
    });
    const message = { id: 'm1', destination: 'orders', orderingKey: 'k', type: 't', payload: {} };
    try {
      await expect(transport.publish([message])).rejects.toMatchObject({
        code: 'TRANSPORT_UNAVAILABLE',
        message: expect.stringContaining('open-files limit'),
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await transport.close();
      silent.close();
    }
  });
});
