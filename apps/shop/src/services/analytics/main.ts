/**
 * The analytics service (the OLAP bridge): every change of the other services into bronze, the
 * dbt-style models of `apps/shop/analytics` into silver and gold as changes arrive, and the
 * Analytics rows of SHOP-API answered from gold. On PostgreSQL with logical decoding the changes
 * come from each service's WAL; otherwise from each service's event log. Gold's sales ranks go
 * back to the catalog as its commands, through this service's outbox (reverse ETL).
 */
import { join } from 'node:path';
import { createEventRegistry } from '@causeway/core';
import { createReverseEtl, openLakehouse, outboxDelivery } from '@causeway/lakehouse';
import { loadDataProducts } from '../../data-products/data-products.ts';
import { log } from '../../platform/log.ts';
import { UnavailableError } from '../../platform/problem.ts';
import { runService } from '../../platform/service-runtime.ts';
import { installAnalyticsRoutes } from './analytics-routes.ts';
import { createContractQuality } from './contract-quality.ts';
import { type Generations, startGenerations } from './generations.ts';
import { walAvailable } from './ingest-mode.ts';
import { shopIngestion } from './ingestion.ts';
import { salesRankSync } from './sales-rank-sync.ts';
import { startUpkeep, type Upkeep } from './upkeep.ts';

const warn = (message: string) => log.warn(`${message}`);

await runService({
  name: 'analytics',
  registry: createEventRegistry([]),
  async setup({ app, config, store, onStart, onStop }) {
    const lakehouse = await openLakehouse({ path: join(config.dataDir, 'analytics.duckdb') });
    const wal = await walAvailable(store, config.postgresUrl !== undefined);
    if (config.postgresUrl && !wal) {
      warn(
        'PostgreSQL runs without wal_level=logical: changes are read from the event logs instead of the WAL (ALTER SYSTEM SET wal_level = logical and a restart turn capture on)',
      );
    }
    let generations: Generations | null = null;
    let upkeep: Upkeep | null = null;
    const started = () => {
      if (!generations || !upkeep)
        throw new UnavailableError('The analytics service is starting: try again shortly');
      return { generations, upkeep };
    };
    const reverseEtl = createReverseEtl({
      lakehouse,
      syncs: [salesRankSync({ minIntervalMs: config.salesRankSyncMs })],
      relation: (model) => started().generations.live().gold(model),
      deliver: outboxDelivery(store),
      onError: (sync, error) =>
        warn(`reverse sync ${sync} failed (the next run pushes again): ${String(error)}`),
    });
    const quality = createContractQuality({
      products: loadDataProducts(),
      live: () => started().generations.live(),
      everyMs: config.analyticsQualityMs,
      warn,
    });
    installAnalyticsRoutes(app, config, {
      live: () => started().generations.live(),
      replay: () => started().generations.replay(),
      upkeep: () => started().upkeep,
      reverseEtl,
      quality,
    });
    // Started with the service: the sources are other services, which may still be starting.
    onStart(async () => {
      generations = await startGenerations({
        lakehouse,
        walAvailable: wal,
        startIngestion: shopIngestion(config),
        catchUpTimeoutMs: 10 * 60_000,
        debounceMs: 300,
        runSpacingMs: config.analyticsRunSpacingMs,
        onLiveRunSucceeded: (run) => {
          reverseEtl.modelRunSucceeded();
          quality.modelRunSucceeded(run.runId);
        },
        warn,
      });
      const live = generations.live;
      upkeep = startUpkeep({
        live,
        exportDirectory: join(config.dataDir, 'analytics-exports'),
        exportEveryMs: config.analyticsExportMs,
        recomputeEveryMs: config.analyticsRecomputeMs,
        warn,
      });
    });
    onStop(async () => {
      await reverseEtl.stop();
      await quality.stop();
      upkeep?.stop();
      await generations?.stop();
      await lakehouse.close();
    });
  },
});
