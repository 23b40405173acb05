/**
 * Who may look and who may act. Reads (GET) take the read or the admin token, actions only the
 * admin token, as `Authorization: Bearer <token>`; `'open'` lets anyone through, for a service
 * that listens on loopback only.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Problem } from './http-answers.ts';

export type Access = 'open' | { readToken?: string; adminToken: string };

export function accessRefusal(
  access: Access,
  request: IncomingMessage,
  need: 'read' | 'act',
): Problem | null {
  if (access === 'open') return null;
  const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (presented === undefined) {
    return {
      title: 'Token required',
      status: 401,
      detail: `This needs the header Authorization: Bearer <${need === 'read' ? 'the read or the admin token' : 'the admin token'}>`,
    };
  }
  const accepted = need === 'read' ? [access.readToken, access.adminToken] : [access.adminToken];
  if (!accepted.some((token) => token !== undefined && sameText(presented, token))) {
    return {
      title: 'Token refused',
      status: 403,
      detail:
        need === 'act' ? 'Actions need the admin token' : 'The token is neither the read nor the admin token',
    };
  }
  return null;
}

/** Constant time for equal lengths, so a token cannot be guessed byte by byte. */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
