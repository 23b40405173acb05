/**
 * Serves the dashboard (apps/shop/src/dashboard: plain HTML, CSS and ES modules, no build step)
 * at `/`. Only files present at startup are served, by exact name, so no path can escape the
 * folder; each is read on request, so an edited file shows on the next reload.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from '@causeway/core';
import type { FastifyInstance } from 'fastify';

const folder = fileURLToPath(new URL('../dashboard/', import.meta.url));
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function registerDashboard(app: FastifyInstance): void {
  const files = new Set(readdirSync(folder).filter((name) => extname(name) in contentTypes));
  const send = async (name: string) => {
    if (!files.has(name)) throw new NotFoundError('Dashboard file', name);
    return readFile(join(folder, name));
  };
  app.get('/', async (_request, reply) =>
    reply
      .type(contentTypes['.html']!)
      .header('cache-control', 'no-cache')
      .send(await send('index.html')),
  );
  app.get<{ Params: { file: string } }>('/dashboard/:file', async (request, reply) => {
    const { file } = request.params;
    return reply
      .type(contentTypes[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      .send(await send(file));
  });
}
