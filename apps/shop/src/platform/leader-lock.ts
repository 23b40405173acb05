/**
 * One process of several runs a singleton job (shipping's change capture: a replication slot takes
 * one reader): the one holding a PostgreSQL session advisory lock. The others try again every
 * `retryMs`. The lock lives as long as the holder's connection, so a SIGKILLed leader's lock is
 * released when the server sees its connection close, and a follower takes over. A leader whose
 * lock connection fails stops its job before it tries to lead again: it cannot know whether it
 * still holds the lock.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { log as shopLog } from './log.ts';

export interface Leadership {
  /** Whether this process runs the job now. */
  readonly isLeader: boolean;
  /** Stops the job if it runs here and gives the lock back. */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  connectionString: string;
  /** The lock's name: every process of the job uses the same. */
  name: string;
  /** Starts the job; what it returns stops it. */
  lead(): Promise<{ stop(): Promise<void> } | null>;
  retryMs?: number;
  log?: (line: string) => void;
}

export function runWhileLeader(options: LeadershipOptions): Leadership {
  const retryMs = options.retryMs ?? 1_000;
  const log = options.log ?? ((line) => shopLog.warn(line));
  let stopped = false;
  let leading: { client: pg.Client; job: { stop(): Promise<void> } | null } | undefined;
  let wake: (() => void) | undefined;

  async function tryToLead(client: pg.Client): Promise<boolean> {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [options.name],
    );
    return rows[0]!.locked;
  }

  async function loop() {
    let saidWaiting = false;
    while (!stopped) {
      const client = new pg.Client({ connectionString: options.connectionString });
      const lost = new Promise<Error>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('the lock connection closed')));
      });
      const failed = lost.then((error) => Promise.reject(error));
      failed.catch(() => {}); // raced below while standing by; nobody else waits for it
      try {
        await client.connect();
        while (!stopped && !(await tryToLead(client))) {
          if (!saidWaiting) log(`[leader] ${options.name}: another process leads; standing by`);
          saidWaiting = true;
          await Promise.race([sleep(retryMs), failed]);
        }
        if (stopped) break;
        log(`[leader] ${options.name}: this process leads`);
        saidWaiting = false;
        leading = { client, job: await options.lead() };
        const ended = await Promise.race([
          lost,
          new Promise<null>((resolve) => (wake = () => resolve(null))),
        ]);
        if (ended) log(`[leader] ${options.name}: ${ended.message}; stopping the job before leading again`);
      } catch (error) {
        if (!stopped) log(`[leader] ${options.name}: ${String(error)}; trying again in ${retryMs} ms`);
      }
      await giveUp();
      await client.end().catch(() => {});
      if (!stopped) await sleep(retryMs);
    }
  }

  async function giveUp() {
    const job = leading?.job;
    leading = undefined;
    await job
      ?.stop()
      .catch((error: unknown) => log(`[leader] ${options.name}: stopping the job failed: ${String(error)}`));
  }

  const running = loop();
  return {
    get isLeader() {
      return leading !== undefined;
    },
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
