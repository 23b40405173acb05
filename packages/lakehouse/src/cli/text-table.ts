/** Plain-text tables for a terminal or a CI log: columns padded to their widest cell. */

/** A column; `right` aligns numbers. */
export interface TextColumn {
  header: string;
  align?: 'left' | 'right';
}

/** Lines of the table, header first, each with `indent` in front and no trailing spaces. */
export function formatTable(
  columns: readonly TextColumn[],
  rows: readonly (readonly string[])[],
  indent = '  ',
): string[] {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    indent +
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index]!;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)];
}

/** One value of a row as a cell: NULL for null, ISO for dates, JSON for nested values, cut at `maxLength`. */
export function formatCell(value: unknown, maxLength = 40): string {
  const text =
    value === null || value === undefined
      ? 'NULL'
      : value instanceof Date
        ? value.toISOString()
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > maxLength ? `${oneLine.slice(0, maxLength - 1)}…` : oneLine;
}
