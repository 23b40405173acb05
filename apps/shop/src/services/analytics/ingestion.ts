/**
 * Starts feeding one generation's bronze in its mode: a replication slot per service database
 * (WAL), or a poller per service event log. `retire` also drops the generation's slots, so a
 * replaced generation does not keep WAL on the servers.
 */
import pg from 'pg';
import { postgresDatabaseFor, postgresUrlFor, type ShopConfig } from '../../config.ts';
import { log } from '../../platform/log.ts';
import { createServiceClient } from '../../platform/service-client.ts';
import type { AnalyticsPipeline } from './analytics-pipeline.ts';
import { analyticsSlotFor, analyticsSources } from './analytics-sources.ts';
import { eventLogSource } from './event-log-source.ts';
import type { IngestMode } from './ingest-mode.ts';
import { createPullIngestion } from './pull-ingestion.ts';
import { startWalSource } from './wal-source.ts';

export interface RunningIngestion {
  stop(): Promise<void>;
  /** Stops and drops what the generation holds outside the lakehouse (its replication slots). */
  retire(): Promise<void>;
}

export interface IngestionStarter {
  start(pipeline: AnalyticsPipeline, mode: IngestMode): Promise<RunningIngestion>;
  /** Drops what a generation that never went live holds outside the lakehouse, without reading from it. */
  discard(generation: number, mode: IngestMode): Promise<void>;
}

const onError = (source: string, error: unknown) =>
  log.warn(`ingesting ${source} failed, trying again: ${String(error)}`);

/** The shop's starter: its services, its databases, its ports. */
export function shopIngestion(config: ShopConfig): IngestionStarter {
  const slotsOf = (generation: number) =>
    analyticsSources.map((service) => ({
      service,
      connectionString: postgresUrlFor(config, service),
      slot: analyticsSlotFor(postgresDatabaseFor(config, service), generation),
    }));
  return {
    start: (pipeline, mode) => startShopIngestion(config, pipeline, mode, slotsOf),
    async discard(generation, mode) {
      if (mode === 'wal') await Promise.all(slotsOf(generation).map(dropSlot));
    },
  };
}

async function startShopIngestion(
  config: ShopConfig,
  pipeline: AnalyticsPipeline,
  mode: IngestMode,
  slotsOf: (generation: number) => Array<{ service: string; connectionString: string; slot: string }>,
): Promise<RunningIngestion> {
  if (mode === 'event-log') {
    const call = createServiceClient(config);
    const ingestion = createPullIngestion({
      bronze: pipeline.bronze,
      sources: analyticsSources.map((service) => eventLogSource(call, service)),
      pollMs: 250,
      ...pipeline.ingestion,
      onError,
    });
    ingestion.start();
    return { stop: () => ingestion.stop(), retire: () => ingestion.stop() };
  }
  const slots = slotsOf(pipeline.generation.number);
  const sources = await Promise.all(
    slots.map((slot) =>
      startWalSource({
        ...slot,
        bronze: pipeline.bronze,
        onIngested: pipeline.ingestion.onIngested,
        onBehind: pipeline.ingestion.onBehind,
        onError,
      }),
    ),
  );
  const stop = async () => {
    await Promise.all(sources.map((source) => source.stop()));
  };
  return {
    stop,
    async retire() {
      await stop();
      await Promise.all(slots.map(dropSlot));
    },
  };
}

/** Drops an analytics slot that is no longer read (a no-op when it is gone already). */
export async function dropSlot(slot: { connectionString: string; slot: string }): Promise<void> {
  const client = new pg.Client({ connectionString: slot.connectionString });
  await client.connect();
  try {
    await client.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [slot.slot],
    );
  } finally {
    await client.end();
  }
}
