/**
 * Lambda as the check on Kappa: now and then every model is rebuilt in full from bronze into
 * schemas of its own (the batch layer), and each gold table is compared row by row with the gold
 * the incremental runs keep (the speed layer). Any difference is drift, logged in
 * `meta.lambda_checks` and reported; there must be none.
 */
import { randomUUID } from 'node:crypto';
import type { Lakehouse } from '@causeway/lakehouse';
import type { AnalyticsPipeline } from './analytics-pipeline.ts';

export interface TableDrift {
  table: string;
  /** Rows in the incremental gold table. */
  rows: number;
  /** Rows of the full recompute. */
  recomputedRows: number;
  /** Rows the full recompute has and the incremental table lacks (counted with duplicates). */
  missing: number;
  /** Rows the incremental table has and the full recompute does not. */
  extra: number;
  /**
   * When there is drift: up to five rows of each side (as JSON objects), so that a drift seen
   * once, in a test run or in production, can be read without reproducing it.
   */
  sample?: { missing: unknown[]; extra: unknown[] };
}

const sampleRows = 5;

export interface LambdaCheck {
  checkId: string;
  generation: number;
  startedAt: string;
  endedAt: string;
  /** Both sides were built from the bronze rows up to this ingest_seq. */
  bronzeSeq: number;
  status: 'agrees' | 'drift' | 'failed';
  /** Rows that differ over every gold table: `missing + extra`, summed. */
  driftRows: number;
  tables: TableDrift[];
  error: string | null;
}

/**
 * Brings gold up to date with an incremental run, then, before the next run, rebuilds everything
 * from the same bronze rows and compares. Ingestion goes on meanwhile: the recompute reads bronze
 * through a view that stops at the last row the incremental run saw.
 */
export async function checkAgainstFullRecompute(pipeline: AnalyticsPipeline): Promise<LambdaCheck> {
  const { lakehouse, generation } = pipeline;
  const checkId = randomUUID();
  const startedAt = new Date().toISOString();
  const schemas = recomputeSchemas(generation.number);
  const check = await pipeline.afterRun(async (run): Promise<LambdaCheck> => {
    const base = { checkId, generation: generation.number, startedAt };
    if (run.status !== 'success') {
      return failed(base, 0, `the incremental run ${run.runId} ended ${run.status}: nothing to compare`);
    }
    const bronzeSeq = await lastModelledSeq(lakehouse, generation.schemaOf('silver'));
    try {
      await lakehouse.transaction(async (session) => {
        await session.run(`CREATE SCHEMA IF NOT EXISTS "${schemas.bronze}"`);
        await session.run(
          `CREATE OR REPLACE VIEW "${schemas.bronze}".changes AS
           SELECT * FROM ${pipeline.bronze.tables.changes} WHERE ingest_seq <= ${bronzeSeq}`,
        );
      });
      const recompute = await pipeline.runner.run({
        runId: `lambda-${checkId}`,
        fullRefresh: true,
        schemaOf: (layer) => schemas[layer as keyof typeof schemas] ?? `${layer}`,
      });
      if (recompute.status !== 'success') {
        return failed(base, bronzeSeq, `the full recompute ${recompute.runId} ended ${recompute.status}`);
      }
      const goldTables = (await pipeline.runner.describe())
        .filter((model) => model.layer === 'gold')
        .map((model) => model.name);
      const tables: TableDrift[] = [];
      for (const table of goldTables) {
        tables.push(
          await tableDrift(lakehouse, table, {
            incremental: `"${generation.schemaOf('gold')}"."${table}"`,
            recomputed: `"${schemas.gold}"."${table}"`,
          }),
        );
      }
      const driftRows = tables.reduce((sum, table) => sum + table.missing + table.extra, 0);
      return {
        ...base,
        endedAt: new Date().toISOString(),
        bronzeSeq,
        status: driftRows === 0 ? 'agrees' : 'drift',
        driftRows,
        tables,
        error: null,
      };
    } catch (error) {
      return failed(base, bronzeSeq, (error as Error).message);
    } finally {
      await dropSchemas(lakehouse, Object.values(schemas));
    }
  });
  await recordCheck(lakehouse, check);
  return check;
}

/** The latest checks, newest first. */
export async function readLambdaChecks(lakehouse: Lakehouse, limit: number): Promise<LambdaCheck[]> {
  await ensureChecksTable(lakehouse);
  const rows = await lakehouse.all<{ check: string }>(
    `SELECT CAST("check" AS VARCHAR) AS "check" FROM meta.lambda_checks ORDER BY started_at DESC LIMIT ${limit}`,
  );
  return rows.map((row) => JSON.parse(row.check) as LambdaCheck);
}

function recomputeSchemas(generation: number) {
  return {
    bronze: `g${generation}_lambda_bronze`,
    silver: `g${generation}_lambda_silver`,
    gold: `g${generation}_lambda_gold`,
  };
}

function failed(
  base: Pick<LambdaCheck, 'checkId' | 'generation' | 'startedAt'>,
  bronzeSeq: number,
  error: string,
): LambdaCheck {
  return {
    ...base,
    endedAt: new Date().toISOString(),
    bronzeSeq,
    status: 'failed',
    driftRows: 0,
    tables: [],
    error,
  };
}

async function lastModelledSeq(lakehouse: Lakehouse, silverSchema: string): Promise<number> {
  const [row] = await lakehouse.all<{ seq: number | null }>(
    `SELECT max(ingest_seq) AS seq FROM "${silverSchema}".events`,
  );
  return row?.seq ?? 0;
}

/**
 * Both ways with EXCEPT ALL, so a duplicated row counts. Columns named `*ingest_seq` are left
 * out: they say in which batch a row was last touched, which depends on how the changes were
 * batched, not what the row says.
 */
async function tableDrift(
  lakehouse: Lakehouse,
  table: string,
  relations: { incremental: string; recomputed: string },
): Promise<TableDrift> {
  const columns = await lakehouse.all<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = $2 AND column_name NOT LIKE '%ingest_seq'
     ORDER BY ordinal_position`,
    [relations.incremental.split('.')[0]!.replaceAll('"', ''), table],
  );
  const list = columns.map((column) => `"${column.column_name}"`).join(', ');
  const [counts] = await lakehouse.all<{
    rows: number;
    recomputed_rows: number;
    missing: number;
    extra: number;
  }>(
    `SELECT
       (SELECT count(*) FROM ${relations.incremental}) AS rows,
       (SELECT count(*) FROM ${relations.recomputed}) AS recomputed_rows,
       (SELECT count(*) FROM (SELECT ${list} FROM ${relations.recomputed}
                              EXCEPT ALL SELECT ${list} FROM ${relations.incremental})) AS missing,
       (SELECT count(*) FROM (SELECT ${list} FROM ${relations.incremental}
                              EXCEPT ALL SELECT ${list} FROM ${relations.recomputed})) AS extra`,
  );
  const drift: TableDrift = {
    table,
    rows: counts?.rows ?? 0,
    recomputedRows: counts?.recomputed_rows ?? 0,
    missing: counts?.missing ?? 0,
    extra: counts?.extra ?? 0,
  };
  if (drift.missing + drift.extra === 0) return drift;
  // As JSON from DuckDB itself: its values (BIGINT, DECIMAL, dates) keep their text form.
  const sampleOf = async (from: string, without: string) =>
    (
      await lakehouse.all<{ row: string }>(
        `SELECT to_json(differing)::VARCHAR AS row FROM (SELECT ${list} FROM ${from}
           EXCEPT ALL SELECT ${list} FROM ${without}) AS differing LIMIT ${sampleRows}`,
      )
    ).map(({ row }) => JSON.parse(row) as unknown);
  return {
    ...drift,
    sample: {
      missing: await sampleOf(relations.recomputed, relations.incremental),
      extra: await sampleOf(relations.incremental, relations.recomputed),
    },
  };
}

async function dropSchemas(lakehouse: Lakehouse, schemas: string[]): Promise<void> {
  await lakehouse.transaction(async (session) => {
    for (const schema of schemas) await session.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}

async function ensureChecksTable(lakehouse: Lakehouse): Promise<void> {
  await lakehouse.transaction(async (session) => {
    await session.run('CREATE SCHEMA IF NOT EXISTS meta');
    await session.run(`CREATE TABLE IF NOT EXISTS meta.lambda_checks (
      check_id VARCHAR PRIMARY KEY, generation INTEGER NOT NULL, started_at TIMESTAMPTZ NOT NULL,
      status VARCHAR NOT NULL, drift_rows BIGINT NOT NULL, "check" JSON NOT NULL)`);
  });
}

async function recordCheck(lakehouse: Lakehouse, check: LambdaCheck): Promise<void> {
  await ensureChecksTable(lakehouse);
  await lakehouse.transaction((session) =>
    session.run('INSERT INTO meta.lambda_checks VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ), $4, $5, $6)', [
      check.checkId,
      check.generation,
      check.startedAt,
      check.status,
      check.driftRows,
      JSON.stringify(check),
    ]),
  );
}
