/**
 * Splits `total` rows into multi-row statement sizes that are powers of two, at most `max` (a
 * power of two): 100 rows become 64 + 32 + 4. Few statements per call, and few distinct
 * statements for the session to keep prepared, whatever the batch sizes are.
 */
export function powerOfTwoBatches(total: number, max: number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left >= max) {
    sizes.push(max);
    left -= max;
  }
  for (let size = max / 2; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/** `(?, ?), (?, ?), ...`: `rows` tuples of `columns` placeholders. */
export function valuesPlaceholders(rows: number, columns: number): string {
  const tuple = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => tuple).join(', ');
}

/** Builds each statement once per row count: the session's cache is keyed by the SQL text. */
export function memoizeByRowCount(build: (rows: number) => string): (rows: number) => string {
  const built = new Map<number, string>();
  return (rows) => {
    let sql = built.get(rows);
    if (sql === undefined) {
      sql = build(rows);
      built.set(rows, sql);
    }
    return sql;
  };
}
