/**
 * The service client over real HTTP servers standing in for two processes of one service: calls
 * take the processes in turn; a refused connection sends any call to the other process; a write
 * that failed after it was sent is not sent again, a read is.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, portOf } from '../config.ts';
import { freePortBlock } from '../e2e/running-shop.ts';
import { createServiceClient, ServiceDownError } from './service-client.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A process of the service: records what it received and answers with `handle`. */
async function processAt(port: number, handle: Handler = answerOk) {
  const received: string[] = [];
  const server = createServer((request, response) => {
    received.push(`${request.method} ${request.url}`);
    handle(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return received;
}

function answerOk(_request: IncomingMessage, response: ServerResponse) {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
}

/** Reads the request, then drops the connection: the service may have acted on it. */
function dropAfterReading(request: IncomingMessage) {
  request.resume();
  request.on('end', () => request.socket.destroy());
}

async function twoProcessShop() {
  const config = loadConfig([], { PORT: String(await freePortBlock(18)), SHOP_INSTANCES: 'users=2' });
  return { config, ports: [portOf(config, 'users', 0), portOf(config, 'users', 1)] as const };
}

describe('the service client with two processes of a service', () => {
  it('takes the processes in turn', async () => {
    const { config, ports } = await twoProcessShop();
    const [first, second] = [await processAt(ports[0]), await processAt(ports[1])];
    const call = createServiceClient(config);
    for (let i = 0; i < 4; i++) expect((await call('users', 'GET', `/users/${i}`)).status).toBe(200);
    expect([first.length, second.length]).toEqual([2, 2]);
  });

  it('sends a read or a write to the other process when one refuses the connection', async () => {
    const { config, ports } = await twoProcessShop();
    const second = await processAt(ports[1]);
    const call = createServiceClient(config);
    for (let i = 0; i < 3; i++) {
      expect((await call('users', 'POST', '/users', { body: { i } })).status).toBe(200);
      expect((await call('users', 'GET', `/users/${i}`)).status).toBe(200);
    }
    expect(second).toHaveLength(6);
  });

  it('does not send a write again when it failed after it was sent; a read goes to the other process', async () => {
    const { config, ports } = await twoProcessShop();
    const first = await processAt(ports[0], dropAfterReading);
    const second = await processAt(ports[1]);
    const call = createServiceClient(config);
    await expect(call('users', 'POST', '/users', { body: { name: 'Ada' } })).rejects.toBeInstanceOf(
      ServiceDownError,
    );
    expect(first).toEqual(['POST /users']);
    expect(second).toEqual([]);

    // The next call starts at the second process: turn the first to come first again.
    expect((await call('users', 'GET', '/users/a')).status).toBe(200);
    expect((await call('users', 'GET', '/users/b')).status).toBe(200);
    expect(first).toEqual(['POST /users', 'GET /users/b']);
    expect(second).toEqual(['GET /users/a', 'GET /users/b']);
  });

  it('says which service did not answer when no process does', async () => {
    const { config } = await twoProcessShop();
    const call = createServiceClient(config);
    await expect(call('users', 'GET', '/users/x')).rejects.toThrow(/The users service did not answer/);
  });
});
