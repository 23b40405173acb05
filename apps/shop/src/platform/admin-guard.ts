/**
 * Who may look and who may act. In dev mode (loopback only: see config.ts) anyone may do both.
 * Otherwise admin actions (redrive, discard, rebuild, pause, poison) need
 * `Authorization: Bearer <SHOP_ADMIN_TOKEN>`, and admin reads (events with their data, dead
 * letters with their payloads, sagas, flows) and `/metrics` need that token or the read-only
 * `SHOP_READ_TOKEN`, for dashboards and metrics scrapers. Liveness (`/admin/health`) stays open.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
  const presented = bearerOf(authorization);
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

/** Null when the caller may read admin data; otherwise the 401 or 403 to answer. */
export function readRefusal(
  config: Pick<ShopConfig, 'dev' | 'adminToken' | 'readToken'>,
  authorization: string | undefined,
): Problem | null {
  if (config.dev) return null;
  const presented = bearerOf(authorization);
  const tokens = [config.adminToken, config.readToken].filter((token) => token !== undefined);
  if (tokens.length === 0) {
    return {
      type: problemType('admin-disabled'),
      title: 'Admin reads are disabled',
      status: 403,
      detail:
        'Dev mode is off and neither SHOP_ADMIN_TOKEN nor SHOP_READ_TOKEN is set: set one to allow admin reads',
    };
  }
  if (presented === undefined) {
    return {
      type: problemType('admin-token-required'),
      title: 'Token required',
      status: 401,
      detail:
        'Outside dev mode admin reads and metrics need the header Authorization: Bearer <SHOP_READ_TOKEN or SHOP_ADMIN_TOKEN>',
    };
  }
  if (!tokens.some((token) => sameText(presented, token))) {
    return {
      type: problemType('admin-token-invalid'),
      title: 'Token refused',
      status: 403,
      detail: 'The token matches neither SHOP_READ_TOKEN nor SHOP_ADMIN_TOKEN',
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
  const presented = bearerOf(authorization);
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
  return refusing((authorization) => adminRefusal(config, authorization));
}

/** A preHandler answering `refusalOf`'s 401 (with its challenge) or 403, and nothing when it has none. */
function refusing(refusalOf: (authorization: string | undefined) => Problem | null) {
  return async function guarded(request: FastifyRequest, reply: FastifyReply) {
    const refusal = refusalOf(request.headers.authorization);
    if (!refusal) return;
    if (refusal.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="causeway-shop-admin"');
    return sendProblem(reply, refusal);
  };
}

/** The token of an `Authorization: Bearer <token>` header. */
function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
}

/** A preHandler that answers 401/403 problem+json unless the caller may read admin data. */
export function requireRead(config: Pick<ShopConfig, 'dev' | 'adminToken' | 'readToken'>) {
  return refusing((authorization) => readRefusal(config, authorization));
}

/**
 * Guards every read of `app` whose path `isAdminRead` names, in one hook, so that a read added
 * later is guarded without anyone remembering to. Writes keep their own `requireAdmin`.
 */
export function guardAdminReads(
  app: FastifyInstance,
  config: Pick<ShopConfig, 'dev' | 'adminToken' | 'readToken'>,
  isAdminRead: (path: string) => boolean,
): void {
  if (config.dev) return;
  const readersOnly = requireRead(config);
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    if (!isAdminRead(request.url.split('?')[0]!)) return;
    // A browser's EventSource cannot send headers: it may pass the token as `access_token`.
    const fromQuery = (request.query as { access_token?: unknown } | undefined)?.access_token;
    if (request.headers.authorization === undefined && typeof fromQuery === 'string') {
      request.headers.authorization = `Bearer ${fromQuery}`;
    }
    return readersOnly(request, reply);
  });
}

/** The token a process presents to another's admin reads: its own, outside dev mode. */
export function ownReadAuthorization(
  config: Pick<ShopConfig, 'dev' | 'adminToken' | 'readToken'>,
): Record<string, string> {
  const token = config.dev ? undefined : (config.adminToken ?? config.readToken);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** The caller's Authorization header, to pass on to a service that guards the same action. */
export function authorizationOf(request: FastifyRequest): Record<string, string> {
  const value = request.headers.authorization;
  return typeof value === 'string' ? { authorization: value } : {};
}
