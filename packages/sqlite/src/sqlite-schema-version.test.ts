import { describe, expect, it } from 'vitest';
import { migrations } from './sqlite-schema.ts';
import { sqliteSchemaVersion } from './sqlite-schema-version.ts';

describe('sqliteSchemaVersion', () => {
  it('is the newest migration, so causeway refuses a file at any other version', () => {
    expect(sqliteSchemaVersion).toBe(Math.max(...migrations.map((migration) => migration.version)));
  });
});
