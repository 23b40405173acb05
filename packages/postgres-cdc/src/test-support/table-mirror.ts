import type { Change, ChangeTransaction } from '../change.ts';

/**
 * A sink that applies changes to an in-memory copy of the captured tables and checks, as it goes,
 * that each key's changes make sense in order: no create of a row it holds (a snapshot row may
 * be overwritten), no update or delete of a row it lacks. `lenient` accepts those two: while a
 * table is copied again in chunks, the stream changes rows whose chunk has not been read yet.
 */
export function createTableMirror(options: { lenient?: boolean } = {}) {
  const rows = new Map<string, Map<string, Record<string, unknown>>>();
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const violations: string[] = [];
  const transactions: ChangeTransaction[] = [];

  const tableOf = (change: Change) => {
    const name = `${change.source.schema}.${change.source.table}`;
    const table = rows.get(name) ?? new Map<string, Record<string, unknown>>();
    rows.set(name, table);
    return table;
  };

  function apply(change: Change): void {
    if (seen.has(change.id)) duplicates.push(change.id);
    seen.add(change.id);
    const table = tableOf(change);
    const key = JSON.stringify(change.key);
    switch (change.op) {
      case 'r':
        table.set(key, { ...change.after });
        return;
      case 'c':
        if (table.has(key)) violations.push(`create of ${key}, which exists`);
        table.set(key, { ...change.after });
        return;
      case 'u': {
        const current = table.get(key);
        if (current === undefined && !options.lenient)
          violations.push(`update of ${key}, which does not exist`);
        table.set(key, { ...current, ...change.after });
        return;
      }
      case 'd':
        if (!table.delete(key) && !options.lenient) violations.push(`delete of ${key}, which does not exist`);
        return;
      case 't':
        table.clear();
        return;
    }
  }

  return {
    handler: async (transaction: ChangeTransaction) => {
      transactions.push(transaction);
      for (const change of transaction.changes) apply(change);
    },
    /** The rows of a table, sorted by key, as JSON-comparable objects. */
    rowsOf: (table: string) =>
      [...(rows.get(table)?.entries() ?? [])].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => row),
    transactions,
    duplicates,
    violations,
    changeCount: () => seen.size,
  };
}
