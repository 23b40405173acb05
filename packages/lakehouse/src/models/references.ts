/**
 * How model SQL names other relations. The runner resolves `ref` and `source` through a
 * `schemaOf` function, never a fixed schema, so one project can be built into shadow schemas.
 */
import { ConfigurationError } from '@causeway/core';
import { qualifiedName } from './sql-text.ts';

/** Resolves model and source names to quoted, qualified relations. */
export interface RelationResolver {
  ref(modelName: string): string;
  source(sourceName: string, tableName: string): string;
}

/** Maps a layer (for models) or a source name (for sources) to a schema. */
export type SchemaOf = (layerOrSourceName: string) => string;

/** The default: the layer or source name is the schema (`silver`, `gold`, `bronze`). */
export const layerAsSchema: SchemaOf = (layerOrSourceName) => layerOrSourceName;

/** A resolver for one run: a model lives in `schemaOf(its layer)`, a source in `schemaOf(source)`. */
export function createRelationResolver(options: {
  layerOf: (modelName: string) => string | undefined;
  schemaOf: SchemaOf;
}): RelationResolver {
  return {
    ref(modelName) {
      const layer = options.layerOf(modelName);
      if (layer === undefined) {
        throw new ConfigurationError(`ref("${modelName}") names no model of the project`, {
          ref: modelName,
        });
      }
      return qualifiedName(options.schemaOf(layer), modelName);
    },
    source: (sourceName, tableName) => qualifiedName(options.schemaOf(sourceName), tableName),
  };
}

/**
 * Renders SQL with a recording resolver to learn what it refs and reads. Renders both branches
 * of `is_incremental()`, so a ref made only in one of them still counts (dbt does the same).
 */
export function findReferences(
  owner: string,
  render: (resolver: RelationResolver) => readonly string[],
): { refs: string[]; sources: string[] } {
  const refs = new Set<string>();
  const sources = new Set<string>();
  const recorder: RelationResolver = {
    ref(modelName) {
      refs.add(modelName);
      return qualifiedName('ref', modelName);
    },
    source(sourceName, tableName) {
      sources.add(`${sourceName}.${tableName}`);
      return qualifiedName(sourceName, tableName);
    },
  };
  try {
    render(recorder);
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`${owner} failed to render its SQL: ${(error as Error).message}`, {
      owner,
    });
  }
  return { refs: [...refs].sort(), sources: [...sources].sort() };
}
