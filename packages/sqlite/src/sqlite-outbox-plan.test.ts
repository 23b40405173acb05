/**
 * The relay's claim must cost the same whatever the outbox's history: its plan reads unpublished
 * rows through an index, never the whole table (published rows stay until pruned).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { claimStatement } from './sqlite-outbox-store.ts';
import { sqliteTableNames } from './sqlite-schema.ts';
import { createSqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'causeway-sqlite-outbox-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the outbox claim on SQLite', () => {
  it('reads unpublished rows through an index, not by scanning the outbox', async () => {
    const filename = join(dir, 'plan.db');
    const store = await createSqliteStore({ filename });
    await store.close();
    const db = new Database(filename);
    // History: published rows (a store never analyzed, as in the shop that scanned them).
    db.exec(`WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 5000)
      INSERT INTO outbox (message_id, destination, ordering_key, type, payload, created_at, published_at)
      SELECT 'm' || value, 'd', 'k' || (value % 50), 't', '{}', 0, 1 FROM n`);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${claimStatement(sqliteTableNames(''))}`)
      .all({ 1: 'owner', 2: 0, 3: 1000, 4: 500 })
      .map((row) => (row as { detail: string }).detail);
    db.close();
    expect(plan.filter((step) => /^SCAN /.test(step) && !step.includes('USING INDEX'))).toEqual([]);
  });
});
