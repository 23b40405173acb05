/**
 * dbt's generic data tests (unique, not_null, accepted_values, relationships). Each compiles to
 * a SELECT of the failing rows, so a test passes when that SELECT is empty.
 */
import { quoteIdentifier, quoteLiteral } from './sql-text.ts';

/** `error` fails the run and skips downstream models; `warn` is reported and nothing else. */
export type TestSeverity = 'warn' | 'error';

interface ColumnTest {
  column: string;
  severity?: TestSeverity;
  /** Overrides the dbt-style generated name (e.g. `unique_orders_order_id`). */
  name?: string;
}

/** A generic test on one column of a model, as in a dbt `schema.yml`. */
export type ModelTest =
  | (ColumnTest & { type: 'unique' })
  | (ColumnTest & { type: 'not_null' })
  | (ColumnTest & { type: 'accepted_values'; values: readonly (string | number | boolean)[] })
  | (ColumnTest & { type: 'relationships'; to: string; field: string });

/** The name dbt would give the test, stable across runs (it keys the results in `meta`). */
export function testNameOf(modelName: string, test: ModelTest): string {
  if (test.name !== undefined) return test.name;
  const base = `${test.type}_${modelName}_${test.column}`;
  switch (test.type) {
    case 'accepted_values':
      return `${base}__${test.values.map(String).join('__')}`;
    case 'relationships':
      return `${base}__${test.field}__ref_${test.to}_`;
    default:
      return base;
  }
}

/** Models a test reads besides its own (the `to` of a relationships test). */
export function testReferences(test: ModelTest): readonly string[] {
  return test.type === 'relationships' ? [test.to] : [];
}

/** The SELECT returning the rows that break the test; `relationOf` resolves model names. */
export function failingRowsSql(
  test: ModelTest,
  target: { relation: string; relationOf: (modelName: string) => string },
): string {
  const column = quoteIdentifier(test.column);
  switch (test.type) {
    case 'unique':
      return `SELECT ${column} AS unique_field, count(*) AS n_records FROM ${target.relation}
WHERE ${column} IS NOT NULL GROUP BY ${column} HAVING count(*) > 1`;
    case 'not_null':
      return `SELECT * FROM ${target.relation} WHERE ${column} IS NULL`;
    case 'accepted_values':
      return `SELECT ${column} AS value_field, count(*) AS n_records FROM ${target.relation}
WHERE ${column} IS NOT NULL AND ${column} NOT IN (${test.values.map(quoteLiteral).join(', ')})
GROUP BY ${column}`;
    case 'relationships': {
      const field = quoteIdentifier(test.field);
      return `SELECT child.${column} AS from_field FROM ${target.relation} AS child
LEFT JOIN ${target.relationOf(test.to)} AS parent ON child.${column} = parent.${field}
WHERE child.${column} IS NOT NULL AND parent.${field} IS NULL`;
    }
  }
}
