import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdSqliteWriteLock } from '@causeway/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedTransport } from './embedded-transport.ts';

const dir = mkdtempSync(join(tmpdir(), 'causeway-embedded-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening the embedded transport file', () => {
  it('waits for another process to release a new file, then converts it to WAL (SQLite runs no busy handler for that)', async () => {
    const filename = join(dir, 'transport.db');
    new Database(filename).close();
    const lock = await holdSqliteWriteLock(filename, 300);
    const transport = createEmbeddedTransport({ filename });
    await lock.released;
    const check = new Database(filename, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    check.close();
    await transport.close();
  });
});
