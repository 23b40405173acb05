/**
 * How far behind each layer is, as `GET /analytics/freshness` reports it. A source's lag is
 * Debezium's "behind source": at its last batch, how long after the source committed the newest
 * change bronze took it in; zero once a poll found nothing more. Silver and gold are as fresh as
 * the bronze rows the last successful model run covered: when bronze holds rows the models have
 * not seen, their lag is the age of the oldest such row at its source.
 */
import type { Lakehouse } from '@causeway/lakehouse';

export interface LayerFreshness {
  lagMs: number;
  updatedAt: string | null;
}

export interface FreshnessReport {
  layers: { bronze: LayerFreshness; silver: LayerFreshness; gold: LayerFreshness };
  sources: Array<{ service: string; lagMs: number }>;
}

export interface Freshness {
  ingested(source: string): void;
  caughtUp(source: string): void;
  behind(source: string, behindMs: number): void;
  /** The highest ingest_seq in bronze: what a model run starting now covers. */
  bronzeHead(): Promise<number>;
  /** A model run that started at `head` succeeded at `endedAt`. */
  covered(head: number, endedAt: string): void;
  report(): Promise<FreshnessReport>;
}

export function createFreshness(options: { lakehouse: Lakehouse; changes: string }): Freshness {
  const sources = new Map<string, { behindMs: number }>();
  let bronzeUpdatedAt: string | null = null;
  let coveredSeq = 0;
  let modelsUpdatedAt: string | null = null;
  const source = (name: string) => {
    let entry = sources.get(name);
    if (!entry) {
      entry = { behindMs: 0 };
      sources.set(name, entry);
    }
    return entry;
  };

  async function oldestUncoveredAgeMs(): Promise<number | null> {
    const [row] = await options.lakehouse.all<{ committed_at: Date | null }>(
      `SELECT min(committed_at) AS committed_at FROM ${options.changes} WHERE ingest_seq > $1`,
      [coveredSeq],
    );
    return row?.committed_at ? Math.max(0, Date.now() - row.committed_at.getTime()) : null;
  }

  return {
    ingested(name) {
      source(name);
      bronzeUpdatedAt = new Date().toISOString();
    },
    caughtUp(name) {
      source(name).behindMs = 0;
    },
    behind(name, behindMs) {
      source(name).behindMs = behindMs;
    },
    async bronzeHead() {
      const [row] = await options.lakehouse.all<{ head: number | null }>(
        `SELECT max(ingest_seq) AS head FROM ${options.changes}`,
      );
      return row?.head ?? 0;
    },
    covered(head, endedAt) {
      coveredSeq = Math.max(coveredSeq, head);
      modelsUpdatedAt = endedAt;
    },
    async report() {
      const listed = [...sources.entries()].map(([service, entry]) => ({ service, lagMs: entry.behindMs }));
      const bronzeLag = Math.max(0, ...listed.map((entry) => entry.lagMs));
      const modelsLag = Math.max(bronzeLag, (await oldestUncoveredAgeMs()) ?? 0);
      const models = { lagMs: modelsLag, updatedAt: modelsUpdatedAt };
      return {
        layers: { bronze: { lagMs: bronzeLag, updatedAt: bronzeUpdatedAt }, silver: models, gold: models },
        sources: listed.sort((a, b) => a.service.localeCompare(b.service)),
      };
    },
  };
}
