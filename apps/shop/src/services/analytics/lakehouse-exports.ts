/**
 * The lakehouse as files other engines read: each gold table as one zstd Parquet file, and bronze
 * as Parquet partitioned by source and ingestion date (hive-style directories). Spark, Trino,
 * ClickHouse or a BigQuery external table read them directly; DuckDB lets no other process open
 * the service's own file.
 */
import { join } from 'node:path';
import { type BronzeExport, exportBronze, exportTable, type TableExport } from '@causeway/lakehouse';
import type { AnalyticsPipeline } from './analytics-pipeline.ts';

export interface LakehouseExport {
  exportedAt: string;
  generation: number;
  /** The model run whose gold the files hold. */
  runId: string;
  gold: Array<{ table: string } & TableExport>;
  bronze: Omit<BronzeExport, 'partitions'> & { partitions: number };
}

/**
 * Exports after a model run and before the next one, so the gold files all hold the same run's
 * tables: `<directory>/gold/<table>.parquet` and `<directory>/bronze/source=…/ingestion_date=…/`.
 * Each file (and the bronze directory) is replaced whole: a reader never sees half an export.
 */
export async function exportLakehouse(
  pipeline: AnalyticsPipeline,
  directory: string,
): Promise<LakehouseExport> {
  return pipeline.afterRun(async (run) => {
    if (run.status !== 'success') {
      throw new Error(`the model run ${run.runId} ended ${run.status}: the last export stays as it was`);
    }
    const goldTables = (await pipeline.runner.describe())
      .filter((model) => model.layer === 'gold')
      .map((model) => model.name);
    const gold: LakehouseExport['gold'] = [];
    for (const table of goldTables) {
      const exported = await exportTable({
        lakehouse: pipeline.lakehouse,
        relation: `${pipeline.generation.schemaOf('gold')}.${table}`,
        file: join(directory, 'gold', `${table}.parquet`),
      });
      gold.push({ table, ...exported });
    }
    const bronze = await exportBronze({
      lakehouse: pipeline.lakehouse,
      directory: join(directory, 'bronze'),
      schema: pipeline.generation.schemaOf('bronze'),
    });
    return {
      exportedAt: new Date().toISOString(),
      generation: pipeline.generation.number,
      runId: run.runId,
      gold,
      bronze: { directory: bronze.directory, rows: bronze.rows, partitions: bronze.partitions.length },
    };
  });
}
