import type { Pgoutput } from 'pg-logical-replication';
import type { Change, ChangeOrigin, ChangeTransaction, LogicalMessage, Row, SchemaChange } from './change.ts';
import { changeId } from './change-id.ts';
import { formatLsn, parseLsn } from './lsn.ts';
import type { CapturedTable } from './source-catalog.ts';

type Relation = Pgoutput.MessageRelation;

export interface AssemblerOptions {
  slot: string;
  database: string;
  /** The identifying columns of a table first seen in the stream (added to the publication later). */
  describe(schema: string, table: string): Promise<CapturedTable>;
  /** Schemas whose changes are the source's own bookkeeping. */
  ignoredSchemas: ReadonlySet<string>;
  onSchemaChange?(change: SchemaChange): void;
}

interface OpenTransaction {
  xid: number;
  commitLsn: string;
  commitTime: string;
  changes: Change[];
  messages: LogicalMessage[];
}

const isoTime = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();

/** Splits a tuple into the values sent and the names of unchanged TOASTed values that were not. */
function present(tuple: Record<string, unknown>): { row: Row; unchanged: string[] } {
  const row: Row = {};
  const unchanged: string[] = [];
  for (const [name, value] of Object.entries(tuple)) {
    if (value === undefined) unchanged.push(name);
    else row[name] = value;
  }
  return { row, unchanged };
}

function pick(row: Row, columns: readonly string[]): Row {
  const key: Row = {};
  for (const column of columns) key[column] = row[column];
  return key;
}

const sameKey = (a: Row, b: Row, columns: readonly string[]) =>
  columns.every((column) => a[column] === b[column]);

/**
 * Turns pgoutput messages into whole transactions of Debezium-shaped changes. A primary key
 * changed by an update becomes a delete of the old key and a create of the new one, as in
 * Debezium, so a consumer keyed by the primary key sees both rows.
 */
export function createTransactionAssembler(options: AssemblerOptions) {
  const tables = new Map<number, CapturedTable | null>();
  const columns = new Map<number, readonly string[]>();
  let open: OpenTransaction | null = null;

  const origin = (transaction: OpenTransaction, table: CapturedTable): ChangeOrigin => ({
    connector: 'postgresql',
    database: options.database,
    schema: table.schema,
    table: table.table,
    slot: options.slot,
    lsn: transaction.commitLsn,
    txId: transaction.xid,
    commitTime: transaction.commitTime,
    snapshot: false,
  });

  function push(transaction: OpenTransaction, change: Omit<Change, 'id'>): void {
    const id = changeId(options.slot, transaction.commitLsn, transaction.changes.length);
    transaction.changes.push({ id, ...change });
  }

  async function tableOf(relation: Relation): Promise<CapturedTable | null> {
    if (tables.has(relation.relationOid)) return tables.get(relation.relationOid)!;
    const table = options.ignoredSchemas.has(relation.schema)
      ? null
      : await options.describe(relation.schema, relation.name);
    tables.set(relation.relationOid, table);
    return table;
  }

  return {
    /** Takes the next message; resolves to a transaction when it was the commit. */
    async accept(message: Pgoutput.Message): Promise<ChangeTransaction | 'empty' | null> {
      switch (message.tag) {
        case 'begin':
          open = {
            xid: message.xid,
            commitLsn: formatLsn(parseLsn(message.commitLsn ?? '0/0')),
            commitTime: isoTime(message.commitTime as bigint),
            changes: [],
            messages: [],
          };
          return null;
        case 'relation': {
          // Sent again after DDL: the next changes carry the new column list.
          tables.delete(message.relationOid);
          const table = await tableOf(message);
          const now = message.columns.map((column) => column.name);
          const before = columns.get(message.relationOid);
          columns.set(message.relationOid, now);
          if (table !== null && before !== undefined) {
            const added = now.filter((name) => !before.includes(name));
            const dropped = before.filter((name) => !now.includes(name));
            if (added.length > 0 || dropped.length > 0)
              options.onSchemaChange?.({ schema: table.schema, table: table.table, added, dropped });
          }
          return null;
        }
        case 'insert': {
          const table = await tableOf(message.relation);
          if (table === null || open === null) return null;
          const { row, unchanged } = present(message.new);
          push(open, {
            op: 'c',
            key: pick(row, table.keyColumns),
            before: null,
            after: row,
            ...(unchanged.length ? { unchanged } : {}),
            source: origin(open, table),
          });
          return null;
        }
        case 'update': {
          const table = await tableOf(message.relation);
          if (table === null || open === null) return null;
          const { row, unchanged } = present(message.new);
          const key = pick(row, table.keyColumns);
          const old = message.old === null ? null : present(message.old).row;
          const oldKey = message.key ?? (old === null ? null : pick(old, table.keyColumns));
          if (oldKey !== null && !sameKey(oldKey, key, table.keyColumns)) {
            push(open, {
              op: 'd',
              key: pick(oldKey, table.keyColumns),
              before: old ?? oldKey,
              after: null,
              source: origin(open, table),
            });
            push(open, {
              op: 'c',
              key,
              before: null,
              after: row,
              ...(unchanged.length ? { unchanged } : {}),
              source: origin(open, table),
            });
            return null;
          }
          push(open, {
            op: 'u',
            key,
            before: old,
            after: row,
            ...(unchanged.length ? { unchanged } : {}),
            source: origin(open, table),
          });
          return null;
        }
        case 'delete': {
          const table = await tableOf(message.relation);
          if (table === null || open === null) return null;
          const before = message.old === null ? (message.key as Row) : present(message.old).row;
          push(open, {
            op: 'd',
            key: pick(before, table.keyColumns),
            before,
            after: null,
            source: origin(open, table),
          });
          return null;
        }
        case 'truncate':
          for (const relation of message.relations) {
            const table = await tableOf(relation);
            if (table === null || open === null) continue;
            push(open, { op: 't', key: null, before: null, after: null, source: origin(open, table) });
          }
          return null;
        case 'message':
          if (message.transactional && open !== null)
            open.messages.push({
              prefix: message.prefix,
              content: Buffer.from(message.content),
              lsn: message.messageLsn ?? open.commitLsn,
            });
          return null;
        case 'commit': {
          const transaction = open;
          open = null;
          if (transaction === null) return null;
          if (transaction.changes.length === 0 && transaction.messages.length === 0) return 'empty';
          return {
            snapshot: false,
            xid: transaction.xid,
            lsn: formatLsn(parseLsn(message.commitEndLsn ?? transaction.commitLsn)),
            commitTime: transaction.commitTime,
            changes: transaction.changes,
            messages: transaction.messages,
          };
        }
        default:
          return null;
      }
    },
    /** True between a begin and its commit. */
    isInsideTransaction: () => open !== null,
  };
}
