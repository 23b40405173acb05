/**
 * Runs reverse syncs: each run reads its query, compares every key's row with the one pushed
 * last, and delivers one command per changed key. Delivery is the caller's (e.g. the service's
 * outbox: then a failed push is retried and dead-lettered like any message). Commands have ids
 * derived from (sync, key, run), so the same run delivered twice is one command per key to an
 * inbox, and carry the run's `asOf`: a receiver that keeps the latest `asOf` per key applies each
 * run's value at most once and never an older run's after a newer one (what a replay relies on).
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, NotFoundError, type OutboxMessage, type Store } from '@causeway/core';
import { v5 as uuidv5 } from 'uuid';
import type { Lakehouse, LakehouseRow } from '../lakehouse.ts';
import {
  createReverseEtlLog,
  type LoggedPush,
  type ReverseEtlLog,
  type ReverseRun,
} from './reverse-etl-log.ts';
import type { ReverseSync } from './reverse-sync.ts';

export interface ReverseEtlOptions {
  lakehouse: Lakehouse;
  // biome-ignore lint/suspicious/noExplicitAny: syncs of any row type run side by side
  syncs: ReadonlyArray<ReverseSync<any>>;
  /** Where a query's `relation(model)` points, e.g. the live generation's gold relation. */
  relation(model: string): string;
  /** Sends commands on, durably (resolves once they are safe): e.g. `outboxDelivery(store)`. */
  deliver(messages: readonly OutboxMessage[]): Promise<void>;
  /** The schema of the runs and pushed rows (default `reverse_etl`). */
  schema?: string;
  /** Runs kept in the log with their commands (default 500). */
  keepRuns?: number;
  /** A scheduled run failed (it is logged too; the next one tries again). */
  onError?(sync: string, error: unknown): void;
}

export interface ReverseEtl {
  /** Runs one sync now, after its run in progress; answers the logged run. */
  run(sync: string, options?: { runId?: string }): Promise<ReverseRun>;
  /**
   * Delivers a logged run's commands again (its data and `asOf`, under new ids): a receiver that
   * keeps `asOf` per key ignores them. Logged as a run of its own, `replayOf` the original.
   */
  replay(runId: string): Promise<ReverseRun>;
  /** Tells the syncs scheduled after model runs that one succeeded. */
  modelRunSucceeded(): void;
  runs(options?: { limit?: number; sync?: string }): Promise<ReverseRun[]>;
  readonly syncs: ReadonlyArray<{ name: string; schedule: ReverseSync['schedule'] }>;
  /** Starts the timers of the syncs with `everyMs`. */
  start(): void;
  /** Stops the timers and waits for the runs in progress. */
  stop(): Promise<void>;
}

// The namespace of command ids: any fixed uuid; changing it would resend every key once.
const commandIdNamespace = '6f1c7c1e-5b8a-4a55-9d0c-6b3f2f0c9a41';

export function commandIdOf(sync: string, key: string, runId: string): string {
  return uuidv5(`${sync}\u0000${key}\u0000${runId}`, commandIdNamespace);
}

/** A row as the JSON the sync compares: BIGINTs as text, dates and other objects as DuckDB prints them. */
const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

function rowJson(row: LakehouseRow | null): string {
  return JSON.stringify(row, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
}

function messageOf(
  sync: string,
  key: string,
  run: { runId: string; asOf: string; replayOf?: string },
  push: LoggedPush,
): OutboxMessage {
  const { command } = push;
  const { runId, asOf } = run;
  return {
    id: push.messageId,
    destination: command.destination,
    // Per key in order: a target sees a key's commands in the order the runs sent them.
    orderingKey: `reverse-etl:${sync}:${key}`,
    type: command.type,
    payload: {
      id: push.messageId,
      type: command.type,
      schemaVersion: 1,
      streamId: `reverse-etl-${sync}`,
      streamPosition: 0,
      globalPosition: 0,
      correlationId: runId,
      causationId: null,
      occurredAt: asOf,
      metadata: { reverseEtl: { sync, key, runId, ...(run.replayOf ? { replayOf: run.replayOf } : {}) } },
      data: command.data,
    },
  };
}

export function createReverseEtl(options: ReverseEtlOptions): ReverseEtl {
  const { lakehouse } = options;
  const log = createReverseEtlLog(lakehouse, options.schema ?? 'reverse_etl');
  const keepRuns = options.keepRuns ?? 500;
  const syncs = new Map(options.syncs.map((sync) => [sync.name, sync]));
  if (syncs.size !== options.syncs.length) {
    throw new InvalidArgumentError('syncs', 'Two reverse syncs have the same name: give each its own');
  }
  const chains = new Map<string, Promise<unknown>>();
  const lastStarted = new Map<string, number>();
  const timers: NodeJS.Timeout[] = [];
  const deferred = new Map<string, NodeJS.Timeout>();
  const pending = new Set<string>();
  let runsSincePrune = 0;
  let stopped = false;

  /** One run at a time per sync: two would diff against the same last-pushed rows. */
  function serialized<T>(sync: string, work: () => Promise<T>): Promise<T> {
    const result = (chains.get(sync) ?? Promise.resolve()).then(work);
    chains.set(
      sync,
      result.catch(() => undefined),
    );
    return result;
  }

  function syncNamed(name: string) {
    const sync = syncs.get(name);
    if (!sync) throw new NotFoundError('Reverse sync', name);
    return sync;
  }

  async function readRun(runId: string): Promise<ReverseRun> {
    const run = await log.run(runId);
    if (!run) throw new NotFoundError('Reverse ETL run', runId);
    return run;
  }

  async function afterRun(): Promise<void> {
    runsSincePrune += 1;
    if (runsSincePrune >= Math.max(1, Math.floor(keepRuns / 10))) {
      runsSincePrune = 0;
      await log.prune(keepRuns);
    }
  }

  async function execute(name: string, runId: string): Promise<ReverseRun> {
    const sync = syncNamed(name);
    const asOf = new Date().toISOString();
    lastStarted.set(name, Date.now());
    await log.started({ runId, sync: name, startedAt: asOf, replayOf: null });
    try {
      const rows = await lakehouse.all(sync.query(options.relation));
      const last = await log.lastPushed(name);
      const pushes: Array<LoggedPush & { rowJson: string }> = [];
      const push = (key: string, row: LakehouseRow | null, json: string) => {
        const command = sync.command({ key, row, run: { runId, asOf } });
        pushes.push({ key, messageId: commandIdOf(name, key, runId), command, rowJson: json });
      };
      const seen = new Set<string>();
      for (const row of rows) {
        const value = row[sync.key];
        if (value === null || value === undefined) {
          throw new InvalidArgumentError(
            'key',
            `Reverse sync ${name}: a row has no ${sync.key} (its key column)`,
          );
        }
        const key = String(value);
        if (seen.has(key)) {
          throw new InvalidArgumentError(
            'key',
            `Reverse sync ${name}: two rows have the key ${key}: give one row per key`,
          );
        }
        seen.add(key);
        const json = rowJson(row);
        if (last.get(key) !== json) push(key, row, json);
      }
      for (const [key, json] of last) if (!seen.has(key) && json !== 'null') push(key, null, 'null');
      await options.deliver(pushes.map((logged) => messageOf(name, logged.key, { runId, asOf }, logged)));
      await log.succeeded({ runId, sync: name, rows: rows.length }, pushes);
    } catch (error) {
      await log.failed(runId, describeError(error));
      throw error;
    }
    await afterRun();
    return readRun(runId);
  }

  /** `logged`: the run's commands as `replay` read them (a run's logged commands never change). */
  async function executeReplay(
    logged: NonNullable<Awaited<ReturnType<ReverseEtlLog['pushesOf']>>>,
  ): Promise<ReverseRun> {
    const replayId = randomUUID();
    const startedAt = new Date().toISOString();
    await log.started({ runId: replayId, sync: logged.sync, startedAt, replayOf: logged.runId });
    try {
      // The original commands (their data carries the original asOf) under ids of their own: the
      // originals may still be in the outbox, which takes an id once. The receiver's asOf check is
      // what makes them change nothing.
      const asOf = (await log.run(logged.runId))?.startedAt ?? startedAt;
      const run = { runId: replayId, asOf, replayOf: logged.runId };
      await options.deliver(
        logged.pushes.map((push) =>
          messageOf(logged.sync, push.key, run, {
            ...push,
            messageId: commandIdOf(logged.sync, push.key, replayId),
          }),
        ),
      );
      await log.succeeded({ runId: replayId, sync: logged.sync, rows: null }, []);
    } catch (error) {
      await log.failed(replayId, describeError(error));
      throw error;
    }
    return { ...(await readRun(replayId)), pushed: logged.pushes.length };
  }

  function scheduled(name: string): void {
    if (stopped || pending.has(name)) return;
    pending.add(name);
    serialized(name, () => {
      pending.delete(name);
      return stopped ? Promise.resolve(null) : execute(name, randomUUID());
    }).catch((error) => options.onError?.(name, error));
  }

  return {
    run: (name, run = {}) => {
      syncNamed(name);
      return serialized(name, () => execute(name, run.runId ?? randomUUID()));
    },
    async replay(runId) {
      const logged = await log.pushesOf(runId);
      if (!logged) throw new NotFoundError('Reverse ETL run', runId);
      return serialized(logged.sync, () => executeReplay(logged));
    },
    modelRunSucceeded() {
      for (const sync of syncs.values()) {
        if (!('afterModelRun' in sync.schedule)) continue;
        const wait = (sync.schedule.minIntervalMs ?? 0) - (Date.now() - (lastStarted.get(sync.name) ?? 0));
        if (wait <= 0) scheduled(sync.name);
        // Too soon after the last run: still run once the interval is over, or this model run's
        // changes would wait for the next one, which may never come.
        else if (!deferred.has(sync.name) && !stopped) {
          const name = sync.name;
          deferred.set(
            name,
            setTimeout(() => {
              deferred.delete(name);
              scheduled(name);
            }, wait),
          );
        }
      }
    },
    runs: (query = {}) =>
      log.runs({ limit: query.limit ?? 20, ...(query.sync === undefined ? {} : { sync: query.sync }) }),
    syncs: options.syncs.map((sync) => ({ name: sync.name, schedule: sync.schedule })),
    start() {
      for (const sync of syncs.values()) {
        if ('everyMs' in sync.schedule)
          timers.push(setInterval(() => scheduled(sync.name), sync.schedule.everyMs));
      }
    },
    async stop() {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      for (const timer of deferred.values()) clearTimeout(timer);
      deferred.clear();
      await Promise.all(chains.values());
    },
  };
}

/** Delivery into a Causeway store's outbox, in one transaction: its relay publishes them. */
export function outboxDelivery(store: Store): ReverseEtlOptions['deliver'] {
  return async (messages) => {
    if (messages.length === 0) return;
    await store.transaction((tx) => store.outbox.enqueue(tx, messages));
  };
}
