import { ConfigurationError } from '../errors/index.ts';
import type { AnyEventDefinition, EventRegistry, HandlerMap, Message } from '../message/index.ts';
import type { Transaction } from '../store/index.ts';

/** Read-model documents of one projection, scoped to the generation being written. */
export interface ProjectionDocuments {
  get<T = unknown>(collection: string, id: string): Promise<T | null>;
  put(collection: string, id: string, document: unknown): Promise<void>;
  delete(collection: string, id: string): Promise<boolean>;
  find<T = unknown>(
    collection: string,
    options?: { where?: Record<string, string | number | boolean>; limit?: number },
  ): Promise<Array<{ id: string; document: T }>>;
}

export interface ProjectionContext {
  /**
   * The transaction that also saves the checkpoint: read model and position commit together.
   * Document writes and `insert` rows are buffered; any query here writes them out first.
   */
  readonly tx: Transaction;
  readonly documents: ProjectionDocuments;
  /** Physical name of a declared table in the generation being written. */
  table(name: string): string;
  /** Inserts a row into a declared table; rows are written with multi-row INSERTs at batch end. */
  insert(table: string, row: Record<string, unknown>): Promise<void>;
}

/** The DDL of one generation's table, given its physical name; index names must include it. */
export type TableDefinition = (physicalName: string) => string | readonly string[];

export type ProjectionHandler = (event: Message, context: ProjectionContext) => Promise<void> | void;

export interface Projection {
  readonly name: string;
  readonly handlers: Readonly<Record<string, ProjectionHandler>>;
  /**
   * SQL tables: name → DDL for a physical table name (a statement, or several: its indexes after
   * it). Readers query the view named `name`.
   */
  readonly tables: Readonly<Record<string, TableDefinition>>;
  /** Document collections the handlers write. */
  readonly collections: readonly string[];
  /** Called when a subject is forgotten: remove or redact its personal data here. */
  readonly onForget?: (subjectId: string, context: ProjectionContext) => Promise<void> | void;
}

const namePattern = /^[a-z][a-z0-9_]{0,39}$/;

/**
 * Declares a projection; names are checked up front so a typo fails at start-up, not at 3 a.m.
 * With `registry`, each handler gets its event's typed data, and a handler for a type the
 * registry does not define fails to compile (and to start).
 */
export function defineProjection<Definition extends AnyEventDefinition = AnyEventDefinition>(options: {
  name: string;
  registry?: EventRegistry<Definition>;
  handlers: NoInfer<HandlerMap<Definition, ProjectionContext>>;
  tables?: Record<string, TableDefinition>;
  collections?: string[];
  onForget?: Projection['onForget'];
}): Projection {
  if (!namePattern.test(options.name)) {
    throw new ConfigurationError(`Projection name ${JSON.stringify(options.name)} must match ${namePattern}`);
  }
  for (const name of [...Object.keys(options.tables ?? {}), ...(options.collections ?? [])]) {
    if (!namePattern.test(name)) {
      throw new ConfigurationError(
        `Projection ${options.name}: table/collection name ${JSON.stringify(name)} must match ${namePattern}`,
      );
    }
  }
  // Typed per definition for callers; the runner hands each handler a decoded event of its type.
  const handlers = options.handlers as unknown as Readonly<Record<string, ProjectionHandler>>;
  if (Object.keys(handlers).length === 0 && !options.onForget) {
    throw new ConfigurationError(`Projection ${options.name} handles no event type`);
  }
  const unknownType = options.registry && Object.keys(handlers).find((type) => !options.registry!.has(type));
  if (unknownType) {
    throw new ConfigurationError(
      `Projection ${options.name} has a handler for ${unknownType}, which its registry does not define`,
      { projection: options.name, type: unknownType },
    );
  }
  return {
    name: options.name,
    handlers,
    tables: options.tables ?? {},
    collections: options.collections ?? [],
    ...(options.onForget ? { onForget: options.onForget } : {}),
  };
}
