import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminHandler } from '@causeway/admin';
import { createConsumer, createEventRegistry, defineEvent } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

const directory = mkdtempSync(join(tmpdir(), 'causeway-admin-example-'));
const store = await createSqliteStore({ filename: join(directory, 'billing.db') });
const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db') });
const invoiceDue = defineEvent({ type: 'orders.InvoiceDue', schema: z.object({ orderId: z.string() }) });
const consumer = createConsumer({
  name: 'billing',
  store,
  transport,
  destinations: ['orders.events'],
  registry: createEventRegistry([invoiceDue]),
  handlers: { 'orders.InvoiceDue': async () => {} },
});

// #region admin
// The operator's page and API of this service, under /causeway in its own HTTP server. It acts
// through the service's consumers (redrive), orchestrator and projection runner when given them.
const admin = createAdminHandler({
  service: 'billing',
  store,
  consumers: [consumer],
  // Reads take either token, actions the admin token ('open' for a service on loopback only).
  access: {
    readToken: process.env.ADMIN_READ_TOKEN ?? 'read-me',
    adminToken: process.env.ADMIN_TOKEN ?? 'act-me',
  },
});
const server = createServer(async (request, response) => {
  if (await admin(request, response)) return; // answered: the page or its API
  response.writeHead(404).end(); // the service's own routes go here
});
// #endregion
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const overview = await fetch(`http://127.0.0.1:${port}/causeway/api/overview`, {
  headers: { authorization: 'Bearer read-me' },
});
const { service, outbox } = (await overview.json()) as { service: string; outbox: { count: number } };
console.log(service, outbox.count, (await fetch(`http://127.0.0.1:${port}/causeway/`)).status);
server.close();
await transport.close();
await store.close();
