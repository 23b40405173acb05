import { ConfigurationError } from '../errors/index.ts';
import { subjectForgottenType } from '../event-store/index.ts';
import type { Message } from '../message/index.ts';
import type { Store, Transaction } from '../store/index.ts';
import type { Projection, ProjectionContext, ProjectionDocuments } from './projection.ts';

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
): ProjectionContext {
  const scoped = (collection: string) => {
    if (!projection.collections.includes(collection)) {
      throw new ConfigurationError(
        `Projection ${projection.name} declares no collection ${collection}: add it to collections`,
      );
    }
    return physicalCollection(projection.name, collection, generation);
  };
  const documents: ProjectionDocuments = {
    get: (collection, id) => store.documents.get(tx, scoped(collection), id),
    put: (collection, id, document) => store.documents.put(tx, scoped(collection), id, document),
    delete: (collection, id) => store.documents.delete(tx, scoped(collection), id),
    find: (collection, options) => store.documents.find(tx, scoped(collection), options),
  };
  return {
    tx,
    documents,
    table(name) {
      if (!(name in projection.tables))
        throw new ConfigurationError(`Projection ${projection.name} declares no table ${name}`);
      return physicalTableName(name, generation);
    },
  };
}

/** Applies a batch of events to one generation of a projection's read model, in `tx`. */
export async function applyEvents(
  store: Store,
  projection: Projection,
  tx: Transaction,
  generation: number,
  events: readonly Message[],
) {
  const context = createProjectionContext(store, projection, tx, generation);
  for (const event of events) {
    if (event.type === subjectForgottenType && projection.onForget) {
      await projection.onForget((event.data as { subjectId: string }).subjectId, context);
      continue;
    }
    const handler = projection.handlers[event.type];
    if (handler) await handler(event, context);
  }
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
    await tx.execute(ddl(physical));
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
export function createReadModelReader(store: Store, projection: Projection) {
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
