/**
 * The port's SQL uses PostgreSQL's `$1, $2, ...`; SQLite spells numbered parameters `?1, ?2, ...`.
 * Quoted strings and identifiers are left alone so a literal '$1' stays a literal.
 */
export function translatePlaceholders(sql: string): string {
  return sql.replace(
    /('(?:[^']|'')*'|"(?:[^"]|"")*")|\$(\d+)/g,
    (match, quoted: string | undefined, index) => (quoted === undefined ? `?${index}` : match),
  );
}

/**
 * better-sqlite3 binds `?N` parameters by name, so `[a, b]` becomes `{ 1: a, 2: b }`. Values
 * SQLite cannot store natively are converted the way a service would expect to read them back.
 */
export function toNumberedParams(params: readonly unknown[]): Record<string, unknown> {
  const named: Record<string, unknown> = {};
  params.forEach((value, index) => {
    named[String(index + 1)] = toSqliteValue(value);
  });
  return named;
}

function toSqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}
