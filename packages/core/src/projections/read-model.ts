import { ConfigurationError } from '../errors/index.ts';
import { subjectForgottenType } from '../event-store/index.ts';
import type { Message } from '../message/index.ts';
import type { Store, Transaction } from '../store/index.ts';
import type { Projection, ProjectionContext, ProjectionDocuments } from './projection.ts';
import { type DocumentCache, ProjectionWriteBuffer } from './write-buffer.ts';

export function physicalTableName(table: string, generation: number): string {
  return `${table}_g${generation}`;
}

export function physicalCollection(projection: string, collection: string, generation: number): string {
  return `${projection}.${collection}@g${generation}`;
}

export function createProjectionContext(
  store: Store,
  projection: Projection,
  tx: Transaction,
  generation: number,
  buffer: ProjectionWriteBuffer,
): ProjectionContext {
  const scoped = (collection: string) => {
    if (!projection.collections.includes(collection)) {
      throw new ConfigurationError(
        `Projection ${projection.name} declares no collection ${collection}: add it to collections`,
      );
    }
    return physicalCollection(projection.name, collection, generation);
  };
  const table = (name: string) => {
    if (!(name in projection.tables))
      throw new ConfigurationError(`Projection ${projection.name} declares no table ${name}`);
    return physicalTableName(name, generation);
  };
  // Direct SQL first writes out what the buffer holds, so statements keep their order.
  const flushingTx: Transaction = {
    storeName: tx.storeName,
    query: async (sql, params) => {
      await buffer.flush();
      return tx.query(sql, params);
    },
    execute: async (sql, params) => {
      await buffer.flush();
      return tx.execute(sql, params);
    },
    onCommit: (callback) => tx.onCommit(callback),
  };
  const documents: ProjectionDocuments = {
    async get<T>(collection: string, id: string) {
      const physical = scoped(collection);
      const buffered = buffer.peekDocument(physical, id);
      if (buffered !== undefined) return buffered as T | null;
      return store.documents.get<T>(tx, physical, id);
    },
    put: async (collection, id, document) => buffer.putDocument(scoped(collection), id, document),
    async delete(collection, id) {
      const existed = (await documents.get(collection, id)) !== null;
      buffer.deleteDocument(scoped(collection), id);
      return existed;
    },
    async find(collection, options) {
      await buffer.flush();
      return store.documents.find(tx, scoped(collection), options);
    },
  };
  return {
    tx: flushingTx,
    documents,
    table,
    insert: async (name, row) => buffer.insertRow(table(name), row),
  };
}

/**
 * Applies a batch of events to one generation of a projection's read model, in `tx`: handlers
 * run in order, their writes are buffered and written out together at the end of the batch.
 */
export async function applyEvents(
  store: Store,
  projection: Projection,
  tx: Transaction,
  generation: number,
  events: readonly Message[],
  knownDocuments: DocumentCache | null = null,
) {
  const buffer = new ProjectionWriteBuffer(store, tx, knownDocuments);
  const context = createProjectionContext(store, projection, tx, generation, buffer);
  for (const event of events) {
    if (event.type === subjectForgottenType && projection.onForget) {
      await projection.onForget((event.data as { subjectId: string }).subjectId, context);
      continue;
    }
    const handler = projection.handlers[event.type];
    if (handler) await handler(event, context);
  }
  await buffer.flush();
}

/** Creates the generation's tables (dropping leftovers of an interrupted rebuild). */
export async function createGeneration(
  store: Store,
  projection: Projection,
  tx: Transaction,
  generation: number,
) {
  for (const [table, ddl] of Object.entries(projection.tables)) {
    const physical = physicalTableName(table, generation);
    await tx.execute(`DROP TABLE IF EXISTS ${physical}`);
    for (const statement of [ddl(physical)].flat()) await tx.execute(statement);
  }
  for (const collection of projection.collections) {
    await store.documents.dropCollection(tx, physicalCollection(projection.name, collection, generation));
  }
}

/** Points the readers' views at a generation (same transaction as the checkpoint swap). */
export async function activateGeneration(projection: Projection, tx: Transaction, generation: number) {
  for (const table of Object.keys(projection.tables)) {
    await tx.execute(`DROP VIEW IF EXISTS ${table}`);
    await tx.execute(`CREATE VIEW ${table} AS SELECT * FROM ${physicalTableName(table, generation)}`);
  }
}

export async function dropGeneration(
  store: Store,
  projection: Projection,
  tx: Transaction,
  generation: number,
) {
  for (const table of Object.keys(projection.tables))
    await tx.execute(`DROP TABLE IF EXISTS ${physicalTableName(table, generation)}`);
  for (const collection of projection.collections) {
    await store.documents.dropCollection(tx, physicalCollection(projection.name, collection, generation));
  }
}

/** Reads a projection's live read model (the generation the checkpoint names). */
export function createReadModelReader(
  store: Pick<Store, 'documents' | 'checkpoints'>,
  projection: Projection,
) {
  async function generation(tx: Transaction | null): Promise<number> {
    return (await store.checkpoints.load(tx, projection.name))?.generation ?? 1;
  }
  return {
    async get<T = unknown>(collection: string, id: string, tx: Transaction | null = null): Promise<T | null> {
      return store.documents.get<T>(
        tx,
        physicalCollection(projection.name, collection, await generation(tx)),
        id,
      );
    },
    async find<T = unknown>(
      collection: string,
      options?: { where?: Record<string, string | number | boolean>; limit?: number; afterId?: string },
    ) {
      return store.documents.find<T>(
        null,
        physicalCollection(projection.name, collection, await generation(null)),
        options,
      );
    },
    async count(collection: string): Promise<number> {
      return store.documents.count(
        null,
        physicalCollection(projection.name, collection, await generation(null)),
      );
    },
  };
}
