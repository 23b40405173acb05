import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Lakehouse, openLakehouse } from './lakehouse.ts';

describe('openLakehouse', () => {
  const opened: Lakehouse[] = [];
  const directories: string[] = [];
  afterEach(async () => {
    for (const lakehouse of opened.splice(0)) await lakehouse.close();
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  async function open(path = ':memory:') {
    const lakehouse = await openLakehouse({ path });
    opened.push(lakehouse);
    return lakehouse;
  }

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const lakehouse = await open();
    await lakehouse.exclusive((s) => s.run('CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR)'));
    await lakehouse.transaction((s) => s.run('INSERT INTO t VALUES ($1, $2)', [1, 'kept']));
    await expect(
      lakehouse.transaction(async (s) => {
        await s.run('INSERT INTO t VALUES ($1, $2)', [2, 'lost']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await lakehouse.all('SELECT id, name FROM t ORDER BY id')).toEqual([{ id: 1, name: 'kept' }]);
  });

  it('answers reads from the last commit while a transaction is open', async () => {
    const lakehouse = await open();
    await lakehouse.exclusive((s) => s.run('CREATE TABLE t (id BIGINT)'));
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writing = lakehouse.transaction(async (s) => {
      await s.run('INSERT INTO t VALUES (1)');
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await lakehouse.all('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
    release();
    await writing;
    expect(await lakehouse.all('SELECT count(*) AS n FROM t')).toEqual([{ n: 1 }]);
  });

  it('keeps big integers exact and small ones as numbers', async () => {
    const lakehouse = await open();
    const [row] = await lakehouse.all('SELECT 42::BIGINT AS small, 9007199254740993::BIGINT AS big');
    expect(row).toEqual({ small: 42, big: '9007199254740993' });
  });

  it('keeps what was committed across a close and a reopen of the file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lakehouse-'));
    directories.push(directory);
    const path = join(directory, 'analytics.duckdb');
    const first = await open(path);
    await first.exclusive((s) => s.run('CREATE TABLE t (id BIGINT)'));
    await first.close();
    const again = await open(path);
    expect(
      await again.all("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 't'"),
    ).toEqual([{ n: 1 }]);
  });
});
