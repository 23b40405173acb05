import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openLakehouse } from '../lakehouse.ts';
import { createBronze } from './bronze.ts';

const child = fileURLToPath(new URL('./test-support/ingest-loop.ts', import.meta.url));
const until = 12_000;
const redeliver = 25;
const kills = 6;

describe('bronze under SIGKILL', () => {
  const directory = mkdtempSync(join(tmpdir(), 'bronze-crash-'));
  const file = join(directory, 'analytics.duckdb');
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps every position exactly once and the offset on the last row across kills at random moments', async () => {
    const resumedFrom: number[] = [];
    const firstSkipped: number[] = [];
    for (let kill = 0; kill < kills; kill++) {
      const run = start();
      const lines = await run.linesUntil((line) => line.startsWith('first'));
      resumedFrom.push(Number(lines.find((line) => line.startsWith('resumed'))!.split(' ')[1]));
      firstSkipped.push(Number(lines.find((line) => line.startsWith('first'))!.split(' ')[2]));
      await sleep(50 + Math.random() * 400); // mid-batch, mid-commit or between batches
      run.process.kill('SIGKILL');
      expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
    }
    const last = start();
    const lastLines = await last.linesUntil((line) => line === 'done');
    expect(await last.exited).toEqual({ code: 0, signal: null });
    resumedFrom.push(Number(lastLines[0]!.split(' ')[1]));
    firstSkipped.push(Number(lastLines.find((line) => line.startsWith('first'))!.split(' ')[2]));

    // Each run got further than the one before it, and none had finished: the kills landed mid-run.
    expect(resumedFrom.slice(1).every((offset, index) => offset > resumedFrom[index]!)).toBe(true);
    expect(resumedFrom.at(-1)).toBeLessThan(until);
    // Every restart redelivered the positions just below its offset, and bronze skipped exactly those.
    expect(firstSkipped).toEqual(resumedFrom.map((offset) => Math.min(redeliver, offset)));

    const lakehouse = await openLakehouse({ path: file });
    try {
      const [rows] = await lakehouse.all(
        `SELECT count(*) AS n, count(DISTINCT position) AS positions, count(DISTINCT change_id) AS ids,
                min(position) AS low, max(position) AS high, count(DISTINCT ingest_seq) AS seqs,
                bool_and(position_order = seq_order) AS arrival_order
         FROM (SELECT position, change_id, ingest_seq, row_number() OVER (ORDER BY position) AS position_order,
                      row_number() OVER (ORDER BY ingest_seq) AS seq_order FROM bronze.changes)`,
      );
      expect(rows).toEqual({
        n: until,
        positions: until,
        ids: until,
        low: 1,
        high: until,
        seqs: until,
        arrival_order: true,
      });
      const offset = await createBronze({ lakehouse }).offsetOf('orders');
      expect(offset).toMatchObject({ position: BigInt(until), cursor: `at-${until}`, changes: until });
    } finally {
      await lakehouse.close();
    }
  }, 240_000);

  function start() {
    const process = spawn(
      'node',
      ['--conditions=@causeway/source', '--import', 'tsx', child, file, String(until), String(redeliver)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return {
      process,
      linesUntil: (done: (line: string) => boolean) => readLines(process, done),
      exited: exitOf(process),
    };
  }
});

function readLines(process: ChildProcess, done: (line: string) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buffered = '';
    process.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
      if (parts.some(done)) resolve(lines);
    });
    process.once('exit', () =>
      reject(new Error(`the child exited before the expected line: ${lines.join(' | ')}`)),
    );
  });
}

function exitOf(process: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
