/**
 * Keeps bronze up with sources read page by page: each page is appended with its position in one
 * DuckDB transaction, so a restart resumes from the stored position without a gap or a duplicate.
 * A source that fails is retried on the next poll; the others go on.
 */
import { createWakeableSleep } from '@causeway/core';
import type { Bronze } from '@causeway/lakehouse';
import type { PullSource } from './event-log-source.ts';

export interface PullIngestionOptions {
  bronze: Bronze;
  sources: readonly PullSource[];
  /** How long a caught-up source waits before it is asked again. */
  pollMs: number;
  pageSize?: number;
  /** After a page added rows to bronze. */
  onIngested(source: string, appended: number): void;
  /** After a poll found a source with nothing more (for its lag). */
  onCaughtUp(source: string): void;
  /** After a page that left more to read: how long ago the source committed its newest change. */
  onBehind(source: string, behindMs: number): void;
  onError(source: string, error: unknown): void;
}

export interface PullIngestion {
  start(): void;
  stop(): Promise<void>;
}

export function createPullIngestion(options: PullIngestionOptions): PullIngestion {
  const pageSize = options.pageSize ?? 1000;
  let running = false;
  const loops: Promise<void>[] = [];
  // Cut short by stop(), so a caught-up loop does not finish its poll first.
  const { sleep, wake } = createWakeableSleep();

  /** Pages until the source has nothing more. */
  async function drain(source: PullSource): Promise<void> {
    while (running) {
      const offset = await options.bronze.offsetOf(source.name);
      const page = await source.pull(offset, pageSize);
      if (page.changes.length > 0 || offset === null || page.position > offset.position) {
        const { appended } = await options.bronze.ingest({
          source: source.name,
          changes: page.changes,
          position: page.position,
          cursor: page.cursor,
        });
        if (appended > 0) options.onIngested(source.name, appended);
      }
      if (page.caughtUp) {
        options.onCaughtUp(source.name);
        return;
      }
      const newest = page.changes.at(-1);
      if (newest) options.onBehind(source.name, Math.max(0, Date.now() - Date.parse(newest.committedAt)));
    }
  }

  async function loop(source: PullSource): Promise<void> {
    while (running) {
      try {
        await drain(source);
      } catch (error) {
        options.onError(source.name, error);
      }
      if (running) await sleep(options.pollMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      for (const source of options.sources) loops.push(loop(source));
    },
    async stop() {
      running = false;
      wake();
      await Promise.all(loops.splice(0));
    },
  };
}
