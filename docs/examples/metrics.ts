import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutboxRelay } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { registerCausewayMetrics, timeDeliveries } from '@causeway/prometheus';
import { createSqliteStore } from '@causeway/sqlite';
import { collectDefaultMetrics, Registry } from 'prom-client';

const directory = mkdtempSync(join(tmpdir(), 'causeway-metrics-example-'));
const store = await createSqliteStore({ filename: join(directory, 'orders.db') });

// #region metrics
const registry = new Registry();
collectDefaultMetrics({ register: registry }); // the process's own: CPU, memory, event loop lag
// Every consumer built on this transport has each delivery timed (causeway_message_handling_seconds).
const transport = timeDeliveries(createEmbeddedTransport({ filename: join(directory, 'transport.db') }), {
  registry,
});
const relay = createOutboxRelay({ store, transport });
// Outbox backlog and age, dead letters, sagas (and those past their deadline), published messages:
// read from the store when Prometheus scrapes.
registerCausewayMetrics({ registry, store, relay });

const server = createServer(async (_request, response) => {
  response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
});
// #endregion
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
console.log(text.match(/^causeway_outbox_backlog_messages \d+$/m)?.[0]);
server.close();
await transport.close();
await store.close();
