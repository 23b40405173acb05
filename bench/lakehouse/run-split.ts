/**
 * Where a live model run's time went, read from the analytics service's run log once the shop has
 * stopped (DuckDB lets one process open the file): how many runs the load caused, how long they
 * took, how much of that was the models and how much the tests and the run's own bookkeeping, and
 * the models that cost most. Printed as notes beside the freshness figures, to say where the lag is.
 */
import { openLakehouse } from '@causeway/lakehouse';
import { note } from '../support/progress.ts';

export async function noteRunSplit(databasePath: string, sinceMs: number): Promise<void> {
  const lakehouse = await openLakehouse({ path: databasePath });
  try {
    const since = new Date(sinceMs).toISOString().replace('T', ' ').replace('Z', '');
    const runsOfLoad = `
      WITH runs AS (
        SELECT run_id, epoch_ms(ended_at) - epoch_ms(started_at) AS run_ms
        FROM meta.runs
        WHERE started_at >= CAST($1 AS TIMESTAMP) AND status = 'success'
      ),
      models AS (
        SELECT run_id, sum(epoch_ms(ended_at) - epoch_ms(started_at)) AS models_ms
        FROM meta.model_runs GROUP BY run_id
      )
      SELECT * FROM runs JOIN models USING (run_id)`;
    const [split] = await lakehouse.all(
      `SELECT count(*) AS runs,
              round(median(run_ms)) AS run_p50, round(quantile_cont(run_ms, 0.95)) AS run_p95,
              round(avg(models_ms)) AS models_avg, round(avg(run_ms - models_ms)) AS rest_avg
       FROM (${runsOfLoad})`,
      [since],
    );
    if (!split || Number(split.runs) === 0) {
      note('lakehouse freshness: no successful model run during the load in the run log');
      return;
    }
    note(
      `lakehouse freshness: ${split.runs} model runs during the load; run time p50 ${split.run_p50} ms, p95 ${split.run_p95} ms; per run ${split.models_avg} ms in models, ${split.rest_avg} ms in tests and bookkeeping`,
    );
    const costly = await lakehouse.all(
      `SELECT model, round(avg(epoch_ms(m.ended_at) - epoch_ms(m.started_at))) AS avg_ms
       FROM meta.model_runs m JOIN (${runsOfLoad}) r USING (run_id)
       GROUP BY model ORDER BY avg_ms DESC LIMIT 6`,
      [since],
    );
    note(
      `lakehouse freshness: costliest models (avg ms) ${costly.map((row) => `${row.model} ${row.avg_ms}`).join(', ')}`,
    );
  } finally {
    await lakehouse.close();
  }
}
