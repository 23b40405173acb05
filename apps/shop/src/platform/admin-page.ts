/**
 * Each shop process serves `@causeway/admin`'s page and API under `/causeway`, as any Causeway
 * service can: its own sagas, dead letters, flows, events and projections. The gateway's dashboard
 * stays the shop's view across processes (the service map, the order form, analytics).
 */
import { randomUUID } from 'node:crypto';
import { type Access, type AdminOptions, createAdminHandler } from '@causeway/admin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ShopConfig } from '../config.ts';

/** Dev mode: open, as the shop's own admin endpoints are. Otherwise the shop's two tokens. */
export function adminAccessOf(config: Pick<ShopConfig, 'dev' | 'adminToken' | 'readToken'>): Access {
  if (config.dev) return 'open';
  // No admin token configured: nobody may act (a token nobody knows), as SHOP_ADMIN_TOKEN's absence means.
  return {
    adminToken: config.adminToken ?? randomUUID(),
    ...(config.readToken ? { readToken: config.readToken } : {}),
  };
}

export function mountAdminPage(app: FastifyInstance, options: AdminOptions): void {
  const admin = createAdminHandler(options);
  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    // The handler answers on the raw response: Fastify steps aside.
    reply.hijack();
    if (!(await admin(request.raw, reply.raw))) reply.raw.writeHead(404).end();
  };
  app.all('/causeway', serve);
  app.all('/causeway/*', serve);
}
