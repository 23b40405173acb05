/**
 * Who may run admin actions (redrive, discard, rebuild, pause, poison): anyone in dev mode,
 * otherwise only a caller with `Authorization: Bearer <SHOP_ADMIN_TOKEN>`. Reads stay open, as
 * the existing dead-letter listing always was; only actions that change something are guarded.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ShopConfig } from '../config.ts';
import { type Problem, sendProblem } from './problem.ts';

const problemType = (slug: string) => `https://causeway.dev/problems/${slug}`;

/** Null when the caller may act; otherwise the 401 or 403 to answer. */
export function adminRefusal(
  config: Pick<ShopConfig, 'dev' | 'adminToken'>,
  authorization: string | undefined,
): Problem | null {
  if (config.dev) return null;
  if (!config.adminToken) {
    return {
      type: problemType('admin-disabled'),
      title: 'Admin actions are disabled',
      status: 403,
      detail: 'Dev mode is off and no SHOP_ADMIN_TOKEN is set: set one to allow admin actions',
    };
  }
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined) {
    return {
      type: problemType('admin-token-required'),
      title: 'Admin token required',
      status: 401,
      detail: 'This admin action needs the header Authorization: Bearer <SHOP_ADMIN_TOKEN>',
    };
  }
  if (!sameText(presented, config.adminToken)) {
    return {
      type: problemType('admin-token-invalid'),
      title: 'Admin token refused',
      status: 403,
      detail: 'The admin token does not match SHOP_ADMIN_TOKEN',
    };
  }
  return null;
}

/**
 * Whether the request carries the admin token itself. Personal data is shown on that alone: dev
 * mode opens admin actions to everyone, never personal data.
 */
export function carriesAdminToken(
  config: Pick<ShopConfig, 'adminToken'>,
  authorization: string | undefined,
): boolean {
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  return config.adminToken !== undefined && presented !== undefined && sameText(presented, config.adminToken);
}

/** Compares in constant time for equal lengths, so the token cannot be guessed byte by byte. */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A preHandler that answers 401/403 problem+json unless the caller may run admin actions. */
export function requireAdmin(config: Pick<ShopConfig, 'dev' | 'adminToken'>) {
  return async function adminOnly(request: FastifyRequest, reply: FastifyReply) {
    const refusal = adminRefusal(config, request.headers.authorization);
    if (!refusal) return;
    if (refusal.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="causeway-shop-admin"');
    return sendProblem(reply, refusal);
  };
}

/** The caller's Authorization header, to pass on to a service that guards the same action. */
export function authorizationOf(request: FastifyRequest): Record<string, string> {
  const value = request.headers.authorization;
  return typeof value === 'string' ? { authorization: value } : {};
}
