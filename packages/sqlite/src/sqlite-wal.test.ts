import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdSqliteWriteLock } from '@causeway/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'causeway-sqlite-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening a SQLite store', () => {
  it('waits for another process to release a new file, then converts it to WAL (SQLite runs no busy handler for that)', async () => {
    const filename = join(dir, 'new.db');
    // The file exists in rollback-journal mode, write-locked by another process for 300 ms: the
    // conversion to WAL fails at once with SQLITE_BUSY, whatever busy_timeout says.
    new Database(filename).close();
    const lock = await holdSqliteWriteLock(filename, 300);
    const store = await createSqliteStore({ filename });
    await lock.released;
    const check = new Database(filename, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    check.close();
    await store.close();
  });
});
