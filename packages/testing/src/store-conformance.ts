import type { Store } from '@causeway/core';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeChangeConformance } from './store-conformance/changes.ts';
import { describeCheckpointConformance } from './store-conformance/checkpoints.ts';
import { describeConsistentReadConformance } from './store-conformance/consistent-reads.ts';
import { describeDeadLetterConformance } from './store-conformance/dead-letters.ts';
import { describeDocumentConformance } from './store-conformance/documents.ts';
import { describeAppendConformance } from './store-conformance/event-log-append.ts';
import { describeReadConformance } from './store-conformance/event-log-read.ts';
import { describeInboxConformance } from './store-conformance/inbox.ts';
import { describeKeyStoreConformance } from './store-conformance/key-store.ts';
import { describeOutboxConformance } from './store-conformance/outbox.ts';
import { describeOutboxHandoffConformance } from './store-conformance/outbox-handoff.ts';
import { describeRetentionConformance } from './store-conformance/retention.ts';
import { describeSagaStoreConformance } from './store-conformance/sagas.ts';
import { describeSnapshotConformance } from './store-conformance/snapshots.ts';
import { describeTransactionConformance } from './store-conformance/transaction.ts';

/**
 * The Store port's contract, run by every backend. Opens one store for the whole suite; each
 * test isolates itself with fresh stream ids, consumer names, collections, ordering keys and saga names.
 */
export function describeStoreConformance(backendName: string, openStore: () => Promise<Store>): void {
  describe(`Store conformance: ${backendName}`, () => {
    let store: Store | undefined;
    beforeAll(async () => {
      store = await openStore();
    });
    afterAll(async () => {
      await store?.close();
    });
    const getStore = (): Store => {
      if (store === undefined) throw new Error(`The ${backendName} store did not open (see beforeAll)`);
      return store;
    };
    describeAppendConformance(getStore);
    describeReadConformance(getStore);
    describeOutboxConformance(getStore);
    describeOutboxHandoffConformance(getStore);
    describeInboxConformance(getStore);
    describeRetentionConformance(getStore);
    describeCheckpointConformance(getStore);
    describeSnapshotConformance(getStore);
    describeKeyStoreConformance(getStore);
    describeDocumentConformance(getStore);
    describeTransactionConformance(getStore);
    describeChangeConformance(getStore);
    describeDeadLetterConformance(getStore);
    describeSagaStoreConformance(getStore);
    describeConsistentReadConformance(getStore);
  });
}
