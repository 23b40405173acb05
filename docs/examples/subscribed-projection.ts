import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cw from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { z } from 'zod';

const ordersRegistry = cw.createEventRegistry([
  cw.defineEvent({ type: 'orders.OrderPlaced', schema: z.object({ totalCents: z.int().positive() }) }),
]);
const dataDir = mkdtempSync(join(tmpdir(), 'causeway-example-'));
const transport = createEmbeddedTransport({ filename: join(dataDir, 'transport.db') });
const ordersStore = await createSqliteStore({ filename: join(dataDir, 'orders.db') });
const orders = cw.createEventStore({ store: ordersStore, registry: ordersRegistry });
const relay = cw.createOutboxRelay({ store: ordersStore, transport });
relay.start();
const reportsStore = await createSqliteStore({ filename: join(dataDir, 'reports.db') });

// #region subscription
// The reports service keeps a read model of the orders service's events. Live, they arrive by a
// consumer; on rebuild they are replayed from the orders service's log (here an event store in
// the same process; between real services, a SourceHistory over HTTP).
const ordersHistory = cw.eventStoreHistory(orders);
const revenue = cw.defineProjection({
  name: 'revenue',
  registry: ordersRegistry,
  collections: ['totals'],
  handlers: {
    'orders.OrderPlaced': async (event, { documents }) => {
      const total = (await documents.get<{ cents: number }>('totals', 'all'))?.cents ?? 0;
      await documents.put('totals', 'all', { cents: total + event.data.totalCents });
    },
  },
});
const runner = cw.createProjectionRunner({
  eventStore: cw.createEventStore({ store: reportsStore, registry: ordersRegistry }),
  projections: [revenue],
  sources: [
    cw.subscribeTo({
      name: 'orders',
      destination: 'orders.events',
      registry: ordersRegistry,
      history: ordersHistory,
    }),
  ],
  subscription: { name: 'reports', transport }, // the consumer group that delivers them
});
await runner.start();
const placed = await orders.appendToStream(
  'order-1',
  [{ type: 'orders.OrderPlaced', data: { totalCents: 4200 } }],
  { publishTo: 'orders.events' },
);
// The orders service's token, waited for in the reports service: read-your-writes across services.
await runner.waitFor('revenue', placed.consistencyToken, { timeoutMs: 5_000 });
const { sources } = await runner.status('revenue'); // per source: position, applied, lagEvents, ...
await runner.rebuild('revenue'); // replays the orders log; live delivery goes on meanwhile
// #endregion
const totals = cw.createReadModelReader(reportsStore, revenue);
console.log(sources[0]?.lagEvents, await totals.get('totals', 'all')); // 0 { cents: 4200 }
await runner.stop();
await relay.stop();
await transport.close();
await Promise.all([ordersStore.close(), reportsStore.close()]);
