import { describe, expect, it } from 'vitest';
import { migrations } from './postgres-schema.ts';
import { postgresSchemaVersion } from './postgres-schema-version.ts';

describe('postgresSchemaVersion', () => {
  it('is the newest migration, so causeway refuses a schema at any other version', () => {
    const versions = migrations({ sql: '"causeway"', channel: 'causeway' }).map(
      (migration) => migration.version,
    );
    expect(postgresSchemaVersion).toBe(Math.max(...versions));
  });
});
