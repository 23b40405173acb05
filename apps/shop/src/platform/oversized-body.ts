import type { FastifyInstance } from 'fastify';
import { bodyTooLarge, sendProblem } from './problem.ts';

export interface OversizedBodyOptions {
  /** Bodies declared larger than this are refused with 413. */
  bodyLimit: number;
  /** Up to this size the refused body is read and dropped, keeping the connection; past it, closed. */
  drainLimit: number;
}

/**
 * Refuses a body whose Content-Length is over the limit with 413 problem+json before reading it,
 * and keeps the connection: Node then reads and drops the rest of the body. Fastify's own refusal
 * closes the connection at once, so a client still writing its body gets EPIPE or a reset instead
 * of the 413 (RFC 9110 allows it, but few clients read a response before they finished sending).
 * Only past drainLimit is closing cheaper than reading what the client sends anyway.
 */
export function refuseOversizedBodies(app: FastifyInstance, options: OversizedBodyOptions): void {
  app.addHook('onRequest', async function refuseOversizedBody(request, reply) {
    const declared = Number(request.headers['content-length']);
    if (!(declared > options.bodyLimit)) return;
    if (declared > options.drainLimit) reply.header('connection', 'close');
    return sendProblem(
      reply,
      bodyTooLarge(`The body is ${declared} bytes, over the ${options.bodyLimit}-byte limit`),
    );
  });
}
