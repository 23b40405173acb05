/**
 * The exactly-once handoff under SIGKILL: a child process streams two tables into a sink table of
 * its own (one sink transaction per source transaction, with the applied change ids), and is
 * killed again and again while three writers change rows: half the time by itself right after a
 * sink commit and before the slot's acknowledgement, half the time from outside at a random
 * moment. Afterwards the sink equals the tables, no change took effect twice, and each key's
 * changes were applied in commit order.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describeRequiring } from '@causeway/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseLsn } from './lsn.ts';
import { createCdcTestDatabase, logicalDecodingMissing } from './test-support/cdc-test-database.ts';

const missing = await logicalDecodingMissing();
const childScript = fileURLToPath(new URL('./test-support/cdc-sink-child.ts', import.meta.url));
const kills = 12;
// Slots belong to the server: a name of this run's own.
const crashSlot = `crash_sink_${randomBytes(3).toString('hex')}`;

interface RunningChild {
  child: ChildProcess;
  streaming: Promise<void>;
  exited: Promise<{
    signal: NodeJS.Signals | null;
    code: number | null;
    selfKilled: boolean;
    stderr: string;
  }>;
}

describeRequiring('change data capture under SIGKILL', missing, () => {
  let db: Awaited<ReturnType<typeof createCdcTestDatabase>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createCdcTestDatabase('cdc_crash');
    await db.query('CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text)');
    await db.query(
      'CREATE TABLE transfers (id bigint PRIMARY KEY, account int NOT NULL, cents int NOT NULL)',
    );
    await db.query("INSERT INTO accounts SELECT g, 1000, 'opened' FROM generate_series(1, 500) g");
    await db.query('CREATE SCHEMA sink');
    await db.query('CREATE TABLE sink.rows (tbl text, key text, row jsonb NOT NULL, PRIMARY KEY (tbl, key))');
    await db.query('CREATE TABLE sink.applied (change_id uuid PRIMARY KEY)');
    await db.query(
      'CREATE TABLE sink.history (seq bigserial PRIMARY KEY, tbl text, key text, lsn pg_lsn, index int, change_id uuid)',
    );
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await db?.drop();
  });

  function startChild(killAfterCommits: number | null): RunningChild {
    const config = {
      url: db.url,
      slot: crashSlot,
      publication: 'crash_sink',
      tables: ['accounts', 'transfers'],
      killAfterCommits,
    };
    const child = spawn(
      process.execPath,
      ['--conditions=@causeway/source', '--import', 'tsx', childScript, JSON.stringify(config)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    let selfKilled = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let onStreaming: () => void = () => {};
    const streaming = new Promise<void>((resolve) => {
      onStreaming = resolve;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'streaming') onStreaming();
      if (line === 'kill after-sink-commit') selfKilled = true;
    });
    const exited = new Promise<{
      signal: NodeJS.Signals | null;
      code: number | null;
      selfKilled: boolean;
      stderr: string;
    }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, selfKilled, stderr })));
    return { child, streaming, exited };
  }

  async function writer(seed: number, stop: () => boolean): Promise<number> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let transactions = 0;
    let step = seed;
    while (!stop()) {
      step += 1;
      const account = 1 + ((step * 7919) % 600);
      await client.query('BEGIN');
      // Rows of both tables in one transaction; inserts, updates and deletes of one key over time.
      if (step % 7 === 0) await client.query('DELETE FROM accounts WHERE id = $1', [account]);
      else
        await client.query(
          `INSERT INTO accounts VALUES ($1, 1000, 'reopened') ON CONFLICT (id) DO UPDATE SET balance = accounts.balance - 1, note = 'moved ' || $2`,
          [account, step],
        );
      await client.query('INSERT INTO transfers VALUES ($1, $2, $3)', [
        seed * 1_000_000 + step,
        account,
        step % 97,
      ]);
      if (step % 11 === 0)
        await client.query('DELETE FROM transfers WHERE id = $1', [seed * 1_000_000 + step - 5]);
      await client.query('COMMIT');
      transactions += 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await client.end();
    return transactions;
  }

  async function sourceRows(table: string, key: string): Promise<Map<string, unknown>> {
    const { rows } = await db.query(`SELECT * FROM ${table}`);
    return new Map(rows.map((row) => [JSON.stringify({ [key]: row[key] }), row]));
  }

  async function sinkRows(table: string): Promise<Map<string, unknown>> {
    const { rows } = await db.query('SELECT key, row FROM sink.rows WHERE tbl = $1', [table]);
    return new Map(rows.map((row) => [row.key as string, row.row]));
  }

  it(`ends with the sink equal to the tables after ${kills} kills while 3 writers change rows`, async () => {
    let writing = true;
    const writers = [1, 2, 3].map((seed) => writer(seed, () => !writing));
    let selfKills = 0;
    let externalKills = 0;
    for (let round = 0; round < kills; round += 1) {
      const selfKill = round % 2 === 0;
      const running = startChild(selfKill ? 1 + ((round * 5) % 17) : null);
      if (selfKill) {
        const exit = await running.exited;
        expect(exit.signal, exit.stderr).toBe('SIGKILL');
        expect(exit.selfKilled, exit.stderr).toBe(true);
        selfKills += 1;
      } else {
        await Promise.race([running.streaming, running.exited]);
        await new Promise((resolve) => setTimeout(resolve, 50 + ((round * 137) % 400)));
        running.child.kill('SIGKILL');
        const exit = await running.exited;
        expect(exit.signal, exit.stderr).toBe('SIGKILL');
        externalKills += 1;
      }
    }
    writing = false;
    const written = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
    expect(written).toBeGreaterThan(100);

    const last = startChild(null);
    await Promise.race([last.streaming, last.exited.then((exit) => Promise.reject(new Error(exit.stderr)))]);
    // How long the sink may take to catch up once the writers stop: a liveness bound, not a speed
    // test (a CI run with two heavy files beside this one took over a minute).
    const deadline = Date.now() + 180_000;
    for (;;) {
      const [accounts, transfers] = [await sinkRows('public.accounts'), await sinkRows('public.transfers')];
      const [expectedAccounts, expectedTransfers] = [
        await sourceRows('accounts', 'id'),
        await sourceRows('transfers', 'id'),
      ];
      // jsonb orders an object's keys its own way: rows are compared with sorted keys.
      const canonical = (row: unknown) =>
        JSON.stringify(Object.entries(row as object).sort(([a], [b]) => a.localeCompare(b)));
      const equal = (a: Map<string, unknown>, b: Map<string, unknown>) =>
        a.size === b.size &&
        [...a].every(([key, row]) => b.has(key) && canonical(row) === canonical(b.get(key)));
      if (equal(accounts, expectedAccounts) && equal(transfers, expectedTransfers)) break;
      if (Date.now() > deadline) {
        // Stuck or skipped? While the child still runs: how far its walsender sent and the child
        // confirmed, what its sink connection waits on, and the sink's newest commit; then what
        // the child wrote to stderr.
        const look = async (sql: string) => JSON.stringify((await db.query(sql)).rows);
        const seen = [
          `wal now: ${await look('SELECT pg_current_wal_lsn()::text AS lsn')}`,
          `slots: ${await look('SELECT slot_name, active_pid, restart_lsn::text, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name LIKE $$crash_sink%$$')}`,
          `walsenders: ${await look('SELECT pid, state, sent_lsn::text, write_lsn::text, flush_lsn::text, reply_time FROM pg_stat_replication')}`,
          `sessions: ${await look('SELECT pid, backend_type, state, wait_event_type, wait_event, left(query, 80) AS query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')}`,
          `sink's newest: ${await look('SELECT max(lsn)::text AS lsn, count(*) AS changes FROM sink.history')}`,
        ];
        last.child.kill('SIGKILL');
        const state = `${seen.join('\n')}\nthe last child's stderr:\n${(await last.exited).stderr}`;
        expect(Object.fromEntries(accounts), state).toEqual(Object.fromEntries(expectedAccounts));
        expect(Object.fromEntries(transfers), state).toEqual(Object.fromEntries(expectedTransfers));
        throw new Error(
          'the sink did not converge, although its rows compare equal: the comparison above is wrong',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    last.child.kill('SIGKILL');
    await last.exited;

    expect(selfKills + externalKills).toBe(kills);
    // No change took effect twice.
    const { rows: counts } = await db.query(
      'SELECT count(*)::int AS n, count(DISTINCT change_id)::int AS d FROM sink.history',
    );
    expect(counts[0].n).toBe(counts[0].d);
    // Each key's changes were applied in commit order.
    const { rows: history } = await db.query(
      'SELECT tbl, key, lsn::text AS lsn, index FROM sink.history ORDER BY seq',
    );
    const lastOf = new Map<string, [bigint, number]>();
    const outOfOrder: string[] = [];
    for (const row of history) {
      const id = `${row.tbl} ${row.key}`;
      const position: [bigint, number] = [parseLsn(row.lsn), row.index];
      const previous = lastOf.get(id);
      if (
        previous &&
        (position[0] < previous[0] || (position[0] === previous[0] && position[1] <= previous[1]))
      )
        outOfOrder.push(`${id} at ${row.lsn}/${row.index} after ${previous[0]}/${previous[1]}`);
      lastOf.set(id, position);
    }
    expect(outOfOrder).toEqual([]);
  }, 300_000);
});
