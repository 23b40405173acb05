import type { Store } from '@causeway/core';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeAggregates } from './aggregates.ts';
import { describeAppending } from './appending.ts';
import { describeProjections } from './projections.ts';
import { describeShredding } from './shredding.ts';

export * from './fixtures.ts';

/**
 * The event store, deciders, snapshots, shredding and projections, run against one backend.
 * `openStore` must return a fresh, empty, isolated store on every call.
 */
export function describeEventStoreConformance(
  backend: string,
  openStore: () => Promise<Store>,
  options: { readRawBytes?: (store: Store) => Promise<string> } = {},
) {
  describe(`event store conformance: ${backend}`, () => {
    let shared: Store;
    beforeAll(async () => {
      shared = await openStore();
    });
    afterAll(async () => {
      await shared?.close();
    });
    describeAppending(() => shared);
    describeAggregates(() => shared);
    describeProjections(openStore);
    describeShredding(openStore, options.readRawBytes);
  });
}
