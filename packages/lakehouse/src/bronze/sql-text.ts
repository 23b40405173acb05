/**
 * Names and literals spliced into SQL text. DuckDB cannot bind a schema, table or file name as a
 * parameter, so these are the only places where outside text becomes SQL, and they quote it.
 */
import { InvalidArgumentError } from '@causeway/core';

const plainName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A schema or table name as given (letters, digits, underscores); anything else is refused, not escaped. */
export function checkName(argument: string, name: string): string {
  if (!plainName.test(name)) {
    throw new InvalidArgumentError(
      argument,
      `${argument} "${name}" is not a plain SQL name: use letters, digits and underscores, starting with a letter`,
      { name },
    );
  }
  return name;
}

/** `"name"`: a double-quoted identifier (a plain name needs no escaping, see checkName). */
export function quoteName(name: string): string {
  return `"${name}"`;
}

/** `schema.table` (or `catalog.schema.table`) checked part by part and quoted. */
export function quoteRelation(relation: string): string {
  const parts = relation.split('.');
  if (parts.length > 3) {
    throw new InvalidArgumentError(
      'relation',
      `"${relation}" has more than three parts (catalog.schema.table)`,
      {
        relation,
      },
    );
  }
  return parts.map((part) => quoteName(checkName('relation', part))).join('.');
}

/** A single-quoted SQL string literal (a file path in COPY). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
