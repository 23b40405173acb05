/**
 * Leadership over a real PostgreSQL: of three processes' worth of contenders one runs the job; when
 * the leader's connection is cut (what the server sees of a SIGKILLed process) it stops its job and
 * another takes over; a stopped leader hands over too; and a leader process SIGKILLed for real.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, describeWithService, type TestDatabase } from '@causeway/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Leadership, runWhileLeader } from './leader-lock.ts';

describeWithService('postgres', 'leadership by advisory lock', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('leader_lock');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('runs the job in one process at a time, and in another once the leader is cut off or stops', async () => {
    const running = new Set<number>();
    const started: number[] = [];
    const stoppedJobs: number[] = [];
    const contender = (id: number): Leadership =>
      runWhileLeader({
        connectionString: database.url,
        name: 'test.capture',
        retryMs: 50,
        log: () => {},
        lead: async () => {
          running.add(id);
          started.push(id);
          return {
            stop: async () => {
              running.delete(id);
              stoppedJobs.push(id);
            },
          };
        },
      });
    const contenders = [contender(0), contender(1), contender(2)];
    try {
      await expect.poll(() => running.size).toBe(1);
      const first = [...running][0]!;
      expect(contenders.filter((each) => each.isLeader)).toEqual([contenders[first]]);

      // The server ends the leader's connection, as it does when the process is SIGKILLed.
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
          WHERE locktype = 'advisory' AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      await admin.end();
      await expect.poll(() => stoppedJobs).toContain(first);
      await expect.poll(() => started.length).toBeGreaterThanOrEqual(2);
      await expect.poll(() => running.size).toBe(1);

      const second = [...running][0]!;
      await contenders[second]!.stop();
      expect(stoppedJobs).toContain(second);
      await expect.poll(() => running.size).toBe(1);
      expect(running.has(second)).toBe(false);
    } finally {
      for (const each of contenders) await each.stop();
    }
    expect(running.size).toBe(0);
  });

  it('takes over from a leader whose process is SIGKILLed', async () => {
    // The leader is another process, running the built module, that prints once it leads.
    const leaderModule = fileURLToPath(new URL('../../dist/platform/leader-lock.js', import.meta.url));
    const script = `
      const { runWhileLeader } = await import(${JSON.stringify(leaderModule)});
      runWhileLeader({ connectionString: process.argv[1], name: 'test.killed', retryMs: 50, log: () => {},
        lead: async () => { console.log('leading'); return null; } });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, database.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let printed = '';
    child.stdout.on('data', (chunk) => (printed += chunk));
    let takenOver = false;
    await expect.poll(() => printed, { timeout: 15_000 }).toContain('leading');
    const follower = runWhileLeader({
      connectionString: database.url,
      name: 'test.killed',
      retryMs: 50,
      log: () => {},
      lead: async () => {
        takenOver = true;
        return null;
      },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(takenOver).toBe(false);
      child.kill('SIGKILL');
      await expect.poll(() => takenOver, { timeout: 15_000 }).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await follower.stop();
    }
  });
});
