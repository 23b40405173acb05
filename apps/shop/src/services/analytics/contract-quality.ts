/**
 * The quality rules of every data product's contracts, run by analytics where the data is: a
 * gold port over its gold relation, a domain's event port over that event type in silver (each
 * field of the port a column, typed by its logical type). They run after model runs, at most
 * every `everyMs`, on the read connection (a model run never waits for them); the latest results
 * are each product's quality.
 */
import {
  type ContractSchemaObject,
  type QualityResult,
  qualityChecks,
  qualityStatus,
  runQualityChecks,
} from '@causeway/data-contracts';
import type { DataProduct } from '../../data-products/data-products.ts';
import type { AnalyticsPipeline } from './analytics-pipeline.ts';

export interface ProductQuality {
  product: string;
  status: 'pass' | 'warn' | 'fail';
  checkedAt: string;
  /** The model run whose gold and silver the checks read. */
  runId: string | null;
  checks: QualityResult[];
}

const castOf: Record<string, string> = { integer: 'BIGINT', number: 'DOUBLE', boolean: 'BOOLEAN' };
const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const text = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** One event type of silver's events, its fields as typed columns. */
function eventRelation(silver: string, port: ContractSchemaObject): string {
  const columns = (port.properties ?? []).map((property) => {
    const field = `data->>${text(property.name)}`;
    const cast = castOf[property.logicalType ?? ''];
    return `${cast ? `TRY_CAST(${field} AS ${cast})` : field} AS ${quote(property.name)}`;
  });
  return `(SELECT ${[...columns, 'event_id'].join(', ')} FROM ${silver}.events WHERE event_type = ${text(port.name)})`;
}

export function createContractQuality(options: {
  products: readonly DataProduct[];
  live(): AnalyticsPipeline;
  everyMs: number;
  warn(message: string): void;
}) {
  const latest = new Map<string, ProductQuality>();
  let pendingRun: string | null = null;
  let checking: Promise<void> | null = null;

  async function checkProduct(pipeline: AnalyticsPipeline, product: DataProduct, runId: string | null) {
    const silver = `"${pipeline.generation.schemaOf('silver')}"`;
    const checks: QualityResult[] = [];
    for (const { contract } of product.contracts.values()) {
      const ports = (contract.schema ?? []).filter((port) => port.physicalType !== 'api');
      if (ports.length === 0 || qualityChecks(contract).length === 0) continue;
      checks.push(
        ...(await runQualityChecks(contract, {
          relation: (port) =>
            port.physicalType === 'event'
              ? eventRelation(silver, port)
              : pipeline.gold(port.physicalName ?? port.name),
          scalar: async (sql) => {
            const [row] = await pipeline.lakehouse.all(sql);
            return row === undefined ? null : Object.values(row)[0];
          },
        })),
      );
    }
    if (checks.length === 0) return;
    latest.set(product.descriptor.id, {
      product: product.descriptor.id,
      status: qualityStatus(checks),
      checkedAt: new Date().toISOString(),
      runId,
      checks,
    });
  }

  async function checkNow(runId: string | null): Promise<void> {
    const pipeline = options.live();
    // Before the first run builds them there is nothing to check yet.
    if (!(await pipeline.isBuilt('events'))) return;
    for (const product of options.products) await checkProduct(pipeline, product, runId);
  }

  let lastCheckAt = 0;
  let lastRunId: string | null = null;
  // Looks every second (or `everyMs`, if less): the first run after a quiet spell is checked at once.
  const timer = setInterval(
    () => {
      if (checking || Date.now() - lastCheckAt < options.everyMs) return;
      // A check whose query failed (e.g. its generation was swapped out under it by a replay) is
      // run again, model run or not: the data did not fail, the reading did.
      const failedReading = [...latest.values()].some((product) =>
        product.checks.some((check) => check.status === 'error'),
      );
      if (pendingRun === null && !failedReading) return;
      const runId = pendingRun ?? lastRunId;
      pendingRun = null;
      lastRunId = runId;
      lastCheckAt = Date.now();
      checking = checkNow(runId)
        .catch((error) => options.warn(`quality checks failed: ${String(error)}`))
        .finally(() => {
          checking = null;
        });
    },
    Math.min(options.everyMs, 1_000),
  );

  return {
    /** Gold changed: the next tick checks it. */
    modelRunSucceeded(runId: string) {
      pendingRun = runId;
    },
    /** Runs every check now (and waits for it). */
    checkNow,
    /** Each product's latest results (none before the first check). */
    latest: (): ProductQuality[] => [...latest.values()],
    async stop() {
      clearInterval(timer);
      await checking;
    },
  };
}

export type ContractQuality = ReturnType<typeof createContractQuality>;
