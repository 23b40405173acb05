/** dbt's model config keys (from `{{ config(...) }}` or a properties file) mapped onto a ModelDefinition. */
import type { Materialization, ModelDefinition, SnapshotStrategy } from '../model-definition.ts';

const knownKeys = new Set([
  'materialized',
  'unique_key',
  'layer',
  'strategy',
  'updated_at',
  'check_cols',
  'tags',
]);

/** The parts of a model definition a config sets. */
export type ConfigFields = Partial<
  Pick<ModelDefinition, 'materialized' | 'uniqueKey' | 'layer' | 'snapshot' | 'tags'>
>;

/** Maps config values; throws a message (the caller adds file and line) for an unknown key or a bad value. */
export function modelConfigFields(config: Readonly<Record<string, unknown>>): ConfigFields {
  for (const key of Object.keys(config)) {
    if (!knownKeys.has(key)) {
      throw new Error(`unsupported config key "${key}": supported are ${[...knownKeys].join(', ')}`);
    }
  }
  const fields: ConfigFields = {};
  if (config.materialized !== undefined)
    fields.materialized = textOf(config, 'materialized') as Materialization;
  if (config.layer !== undefined) fields.layer = textOf(config, 'layer');
  if (config.unique_key !== undefined) fields.uniqueKey = textsOf(config, 'unique_key');
  if (config.tags !== undefined) {
    const tags = textsOf(config, 'tags');
    fields.tags = typeof tags === 'string' ? [tags] : tags;
  }
  const snapshot = snapshotOf(config);
  if (snapshot !== undefined) fields.snapshot = snapshot;
  return fields;
}

function snapshotOf(config: Readonly<Record<string, unknown>>): SnapshotStrategy | undefined {
  if (config.strategy === undefined) return undefined;
  const strategy = textOf(config, 'strategy');
  if (strategy === 'timestamp') return { strategy, updatedAt: textOf(config, 'updated_at') };
  if (strategy === 'check') {
    const checkCols = textsOf(config, 'check_cols');
    return { strategy, checkCols: typeof checkCols === 'string' ? [checkCols] : checkCols };
  }
  throw new Error(`strategy '${strategy}' is not timestamp or check`);
}

function textOf(config: Readonly<Record<string, unknown>>, key: string): string {
  const value = config[key];
  if (typeof value !== 'string' || value === '') throw new Error(`config ${key} must be a quoted name`);
  return value;
}

function textsOf(config: Readonly<Record<string, unknown>>, key: string): string | string[] {
  const value = config[key];
  if (typeof value === 'string' && value !== '') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'))
    return value;
  throw new Error(`config ${key} must be a name or a list of names`);
}
