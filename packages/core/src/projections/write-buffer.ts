import type { Store, Transaction } from '../store/index.ts';

type Row = Record<string, unknown>;

/**
 * Write-behind for one projection batch: document writes and row inserts are kept in memory and
 * written with a few multi-row statements before the checkpoint is saved. Reads see the buffer.
 * Any direct SQL on the transaction flushes first, so statement order is never changed.
 */
export class ProjectionWriteBuffer {
  readonly #documents = new Map<string, Map<string, unknown | typeof deleted>>();
  readonly #rows = new Map<string, { table: string; columns: string[]; values: unknown[][] }>();
  readonly #knownDocuments: DocumentCache | null;

  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    knownDocuments: DocumentCache | null = null,
  ) {
    this.#knownDocuments = knownDocuments;
  }

  /** `undefined`: not buffered (read the store); `null`: deleted or known absent. */
  peekDocument(collection: string, id: string): unknown | null | undefined {
    // Copies, so a handler that mutates what it read cannot change the buffer behind its back.
    const buffered = this.#documents.get(collection)?.get(id);
    if (buffered !== undefined) return buffered === deleted ? null : structuredClone(buffered);
    const known = this.#knownDocuments?.get(collection, id);
    return known === undefined || known === null ? known : structuredClone(known);
  }

  putDocument(collection: string, id: string, document: unknown): void {
    const byId = this.#documents.get(collection) ?? new Map<string, unknown>();
    this.#documents.set(collection, byId);
    byId.set(id, document);
  }

  deleteDocument(collection: string, id: string): void {
    this.putDocument(collection, id, deleted);
  }

  insertRow(table: string, row: Row): void {
    const columns = Object.keys(row);
    const key = `${table}\u0000${columns.join(',')}`;
    const pending = this.#rows.get(key) ?? { table, columns, values: [] };
    this.#rows.set(key, pending);
    pending.values.push(columns.map((column) => row[column]));
  }

  async flush(): Promise<void> {
    for (const [collection, byId] of this.#documents) {
      const puts: Array<{ id: string; document: unknown }> = [];
      const deletes: string[] = [];
      for (const [id, document] of byId) {
        if (document === deleted) deletes.push(id);
        else puts.push({ id, document });
        this.#knownDocuments?.set(collection, id, document === deleted ? null : document);
      }
      if (puts.length > 0) await this.store.documents.putMany(this.tx, collection, puts);
      if (deletes.length > 0) await this.store.documents.deleteMany(this.tx, collection, deletes);
    }
    this.#documents.clear();
    for (const { table, columns, values } of this.#rows.values())
      await insertRows(this.tx, table, columns, values);
    this.#rows.clear();
  }
}

const deleted = Symbol('deleted');

// Both SQLite and PostgreSQL accept far more than 30,000 parameters per statement; stay below.
const maxParameters = 30_000;

async function insertRows(tx: Transaction, table: string, columns: string[], values: unknown[][]) {
  const rowsPerStatement = Math.max(1, Math.floor(maxParameters / columns.length));
  for (let start = 0; start < values.length; start += rowsPerStatement) {
    const chunk = values.slice(start, start + rowsPerStatement);
    let parameter = 0;
    const tuples = chunk.map(() => `(${columns.map(() => `$${++parameter}`).join(', ')})`).join(', ');
    await tx.execute(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples}`, chunk.flat());
  }
}

/**
 * What a rebuild has written to its fresh generation, so reads need no round trip: in a
 * generation only the rebuild writes to, an id it never wrote does not exist. Past `limit`
 * entries it stops answering and reads go to the store again.
 */
export class DocumentCache {
  readonly #entries = new Map<string, unknown | null>();
  #complete = true;

  constructor(private readonly limit = 200_000) {}

  get(collection: string, id: string): unknown | null | undefined {
    const key = `${collection}\u0000${id}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    return this.#complete ? null : undefined;
  }

  set(collection: string, id: string, document: unknown | null): void {
    if (!this.#complete) return;
    if (this.#entries.size >= this.limit) {
      this.#complete = false;
      this.#entries.clear();
      return;
    }
    this.#entries.set(`${collection}\u0000${id}`, document);
  }
}
