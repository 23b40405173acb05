/** Quoting for the SQL the runner writes: every identifier and literal it interpolates goes through here. */

/** A DuckDB identifier, double-quoted so any name (even a keyword or mixed case) is safe. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`: the qualified relation of a model or a source table. */
export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/** A SQL literal for a string, number or boolean (a data test's accepted values). */
export function quoteLiteral(value: string | number | boolean): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${value.replaceAll("'", "''")}'`;
}

/** `a.k = b.k AND ...` over the key columns, null-safe so a NULL key matches itself. */
export function keysMatch(left: string, right: string, keys: readonly string[]): string {
  return keys
    .map((key) => `${left}.${quoteIdentifier(key)} IS NOT DISTINCT FROM ${right}.${quoteIdentifier(key)}`)
    .join(' AND ');
}
