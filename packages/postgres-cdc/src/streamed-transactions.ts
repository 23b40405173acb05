import type { ChangeTransaction } from './change.ts';

/** A transaction that changed more than one table: counts as having changed each of them. */
const severalTables = -1;

/**
 * The ids of the last transactions the stream delivered, and the table each changed: a fixed
 * ring, so remembering costs the same however busy the stream is. The table copy asks it which
 * transactions came before a watermark.
 */
export function createStreamedTransactions(capacity = 100_000) {
  const xids = new Uint32Array(capacity);
  const tables = new Int32Array(capacity);
  const tableIds = new Map<string, Map<string, number>>();
  let recorded = 0;
  let nextTableId = 0;

  function tableId(schema: string, table: string, create: boolean): number | undefined {
    let inSchema = tableIds.get(schema);
    if (inSchema === undefined) {
      if (!create) return undefined;
      inSchema = new Map();
      tableIds.set(schema, inSchema);
    }
    let id = inSchema.get(table);
    if (id === undefined && create) {
      id = nextTableId++;
      inSchema.set(table, id);
    }
    return id;
  }

  return {
    /** How many transactions were recorded so far: a position to ask about later. */
    get position(): number {
      return recorded;
    },

    record(transaction: ChangeTransaction): void {
      if (transaction.xid === null || transaction.changes.length === 0) return;
      const first = transaction.changes[0]!.source;
      let table = tableId(first.schema, first.table, true)!;
      for (const change of transaction.changes)
        if (change.source.table !== first.table || change.source.schema !== first.schema) {
          table = severalTables;
          break;
        }
      const slot = recorded % capacity;
      xids[slot] = transaction.xid;
      tables[slot] = table;
      recorded += 1;
    },

    /**
     * Whether any transaction recorded before `position` that changed the table is one
     * `visible` says no to. Transactions the ring no longer holds are not asked about.
     */
    anyBefore(position: number, schema: string, table: string, visible: (xid: number) => boolean): boolean {
      const id = tableId(schema, table, false);
      for (let index = Math.max(0, recorded - capacity); index < position; index += 1) {
        const slot = index % capacity;
        if ((tables[slot] === id || tables[slot] === severalTables) && !visible(xids[slot]!)) return true;
      }
      return false;
    },
  };
}
