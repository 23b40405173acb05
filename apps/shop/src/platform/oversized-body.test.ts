/**
 * An oversized body on a real socket: the 413 arrives while the client is still sending, and the
 * connection survives the rest of the body, so the client reads the refusal instead of a reset.
 */
import { once } from 'node:events';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimitBytes, createHttpApp } from './service-runtime.ts';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = createHttpApp();
  app.post('/echo', async (request) => ({ received: request.body }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

afterAll(() => app.close());

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads HTTP/1.1 responses (with Content-Length) off a socket, in order. */
function responsesOf(socket: Socket): () => Promise<RawResponse> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  const more = () => new Promise<void>((resolve) => (wake = resolve));
  return async function nextResponse() {
    for (;;) {
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd >= 0) {
        const [statusLine, ...lines] = buffered.subarray(0, headEnd).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(
          lines.map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
        );
        const length = Number(headers['content-length']);
        if (buffered.length >= headEnd + 4 + length) {
          const body = buffered.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
          buffered = buffered.subarray(headEnd + 4 + length);
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      await more();
    }
  };
}

async function write(socket: Socket, data: string | Buffer): Promise<void> {
  if (!socket.write(data)) await once(socket, 'drain');
}

const post = (length: number) =>
  `POST /echo HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('a body over the limit', () => {
  it('is refused with 413 problem+json before it is read, and the connection serves the next request', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const nextResponse = responsesOf(socket);
    const declared = 2 * bodyLimitBytes;
    await write(socket, post(declared));
    await write(socket, Buffer.alloc(64 * 1024, 0x20));

    const refusal = await nextResponse();
    expect(refusal.status).toBe(413);
    expect(refusal.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(refusal.body)).toMatchObject({
      status: 413,
      type: expect.stringMatching(/body-too-large$/),
    });
    expect(refusal.headers.connection).not.toBe('close');

    // The rest of the body, sent after the refusal, as a client that writes before it reads does.
    for (let sent = 64 * 1024; sent < declared; sent += 256 * 1024) {
      await write(socket, Buffer.alloc(Math.min(256 * 1024, declared - sent), 0x20));
    }
    await write(socket, `${post(11)}{"a":"b"}\r\n`);
    const next = await nextResponse();
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toEqual({ received: { a: 'b' } });
    socket.destroy();
  });

  it('closes the connection when the body is too large to be worth reading', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const nextResponse = responsesOf(socket);
    await write(socket, post(64 * bodyLimitBytes));
    const refusal = await nextResponse();
    expect(refusal.status).toBe(413);
    expect(refusal.headers.connection).toBe('close');
    socket.destroy();
  });
});
