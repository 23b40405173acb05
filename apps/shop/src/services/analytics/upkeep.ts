/**
 * The analytics service's periodic work beside ingestion: the Parquet exports and the Lambda
 * check (a full recompute compared with the incremental gold). Each also runs when asked; a
 * periodic pass that fails is logged and tried again at the next interval.
 */
import type { AnalyticsPipeline } from './analytics-pipeline.ts';
import { exportLakehouse, type LakehouseExport } from './lakehouse-exports.ts';
import { checkAgainstFullRecompute, type LambdaCheck } from './lambda-check.ts';

export interface Upkeep {
  exportNow(): Promise<LakehouseExport>;
  lastExport(): LakehouseExport | null;
  checkNow(): Promise<LambdaCheck>;
  stop(): void;
}

export interface UpkeepOptions {
  live(): AnalyticsPipeline;
  exportDirectory: string;
  /** 0: only when asked. */
  exportEveryMs: number;
  /** 0: only when asked. */
  recomputeEveryMs: number;
  warn(message: string): void;
}

export function startUpkeep(options: UpkeepOptions): Upkeep {
  let exported: LakehouseExport | null = null;
  let exportedGoldAt: string | null = null;
  const timers: NodeJS.Timeout[] = [];

  async function exportNow(): Promise<LakehouseExport> {
    exported = await exportLakehouse(options.live(), options.exportDirectory);
    return exported;
  }

  async function checkNow(): Promise<LambdaCheck> {
    const check = await checkAgainstFullRecompute(options.live());
    if (check.status !== 'agrees') {
      options.warn(
        check.status === 'drift'
          ? `Lambda check ${check.checkId}: the full recompute differs from the incremental gold in ${check.driftRows} rows (${check.tables
              .filter((table) => table.missing + table.extra > 0)
              .map(
                (table) =>
                  `${table.table}: ${table.missing} missing, ${table.extra} extra, e.g. missing ${JSON.stringify(table.sample?.missing ?? [])}, extra ${JSON.stringify(table.sample?.extra ?? [])}`,
              )
              .join('; ')})`
          : `Lambda check ${check.checkId} failed: ${check.error}`,
      );
    }
    return check;
  }

  function every(intervalMs: number, name: string, pass: () => Promise<unknown>): void {
    if (intervalMs === 0) return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return; // a slow pass is not queued behind itself
      busy = true;
      pass()
        .catch((error) => options.warn(`${name} failed (next in ${intervalMs} ms): ${String(error)}`))
        .finally(() => {
          busy = false;
        });
    }, intervalMs);
    timer.unref();
    timers.push(timer);
  }

  every(options.exportEveryMs, 'Parquet export', async () => {
    // An idle shop's files stay as they are.
    const { layers } = await options.live().freshness();
    if (layers.gold.updatedAt === null || layers.gold.updatedAt === exportedGoldAt) return;
    exportedGoldAt = layers.gold.updatedAt;
    await exportNow();
  });
  every(options.recomputeEveryMs, 'Lambda check', checkNow);

  return {
    exportNow,
    lastExport: () => exported,
    checkNow,
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
