/**
 * Masking by classification: the columns a contract classifies as personal (`pii`) or
 * `restricted` are masked in what a reader without the right to see them gets, whatever the
 * columns are: a new personal column is masked once its contract says so, with no new code.
 */
import type { ContractSchemaObject } from './contract.ts';

/** The classifications masked for a reader who may not see them. */
export const maskedClassifications: readonly string[] = ['pii', 'restricted'];

/** `ada@example.com` → `a***@example.com`; other text keeps its first character; null stays null. */
export function maskValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const text = String(value);
  const at = text.lastIndexOf('@');
  if (at > 0) return `${text[0]}***${text.slice(at)}`;
  return text.length > 1 ? `${text[0]}***` : '***';
}

/** The port's columns that are masked for such a reader. */
export function maskedColumns(port: ContractSchemaObject): string[] {
  return (port.properties ?? [])
    .filter(
      (column) =>
        column.classification !== undefined && maskedClassifications.includes(column.classification),
    )
    .map((column) => column.name);
}

/** The rows as the reader may see them: unchanged when `reveal`, else each masked column masked. */
export function maskRows<Row extends object>(
  rows: readonly Row[],
  port: ContractSchemaObject,
  options: { reveal: boolean },
): Row[] {
  const masked = maskedColumns(port);
  if (options.reveal || masked.length === 0) return [...rows];
  return rows.map((row) => {
    const copy = { ...row } as Record<string, unknown>;
    for (const column of masked) if (column in copy) copy[column] = maskValue(copy[column]);
    return copy as Row;
  });
}
