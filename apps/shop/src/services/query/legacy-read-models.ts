/**
 * Query databases written before the read models moved to core's projection runner hold plain
 * tables where the runner now keeps views, and an inbox that has already taken every event: they
 * are dropped, and the read models are rebuilt from the sources' histories.
 */
import type { Store } from '@causeway/core';
import { log } from '../../platform/log.ts';

const legacyTables = [
  'products_view',
  'my_orders',
  'daily_sales',
  'applied_streams',
  'projection_sources',
  'projection_control',
];

/** True when legacy tables were found and dropped: the caller then rebuilds. */
export async function dropLegacyReadModels(store: Store): Promise<boolean> {
  const legacy = await store
    .transaction((tx) => tx.query('SELECT 1 FROM applied_streams LIMIT 1'))
    .then(
      () => true,
      () => false,
    );
  if (!legacy) return false;
  await store.transaction(async (tx) => {
    for (const table of legacyTables) await tx.execute(`DROP TABLE IF EXISTS ${table}`);
  });
  log.warn('read models of an earlier version found: dropped, and rebuilt from the sources');
  return true;
}
