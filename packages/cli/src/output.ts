/** What a command prints: a table for people, or the same rows as JSON for scripts (`--json`). */
import Table from 'cli-table3';

export interface Listing {
  columns: readonly string[];
  rows: ReadonlyArray<Record<string, unknown>>;
  /** One line after the table (people only), e.g. "3 of 120 streams". */
  footer?: string;
}

export function printListing(listing: Listing, json: boolean, write: (text: string) => void): void {
  if (json) {
    write(`${JSON.stringify(listing.rows, null, 2)}\n`);
    return;
  }
  if (listing.rows.length === 0) {
    write('(none)\n');
    return;
  }
  const table = new Table({
    head: [...listing.columns],
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of listing.rows) table.push(listing.columns.map((column) => cell(row[column])));
  write(`${table.toString()}\n`);
  if (listing.footer) write(`${listing.footer}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
