/**
 * Child process for the projection kill test: runs the ledger projection over the store's log and
 * prints `applied <count>` after every committed batch; with `rebuild`, it also rebuilds the
 * ledger and prints `rebuild <processed>` as the replay goes. The parent SIGKILLs it at random.
 * Usage: projection-child <store spec as JSON (CrashStoreSpec)> <live|rebuild>
 */
import { writeSync } from 'node:fs';
import { createEventStore, createProjectionRunner } from '@causeway/core';
import { registry } from '../event-store-conformance/fixtures.ts';
import { openCrashStore } from './crash-backends.ts';
import type { CrashStoreSpec } from './messaging-crash-config.ts';
import { ledgerProjection } from './projection-crash-fixture.ts';

const [storeSpec, mode] = process.argv.slice(2);
const store = await openCrashStore(JSON.parse(storeSpec!) as CrashStoreSpec);
let applied = 0;
const runner = createProjectionRunner({
  eventStore: createEventStore({ store, registry }),
  projections: [ledgerProjection],
  // Small batches: many commits, so a kill lands inside or between transactions alike.
  batchSize: 25,
  idlePollMs: 20,
  onApplied: () => {
    applied++;
    if (applied % 25 === 0) writeSync(1, `applied ${applied}\n`);
  },
});
await runner.start();
writeSync(1, 'ready\n');
if (mode === 'rebuild') {
  await runner.rebuild(ledgerProjection.name, {
    onProgress: ({ processed }) => writeSync(1, `rebuild ${processed}\n`),
  });
  writeSync(1, 'rebuilt\n');
}
