/**
 * dbt's properties files (`models/<folders>/schema.yml`): per model a description, per column its
 * `data_tests` (or the older `tests`): unique, not_null, accepted_values, relationships, each
 * with an optional `config: { severity: warn }`.
 */
import { ConfigurationError } from '@causeway/core';
import { parse } from 'yaml';
import type { ModelTest, TestSeverity } from '../data-tests.ts';

/** What a properties file says about one model. */
export interface ModelProperties {
  name: string;
  file: string;
  description?: string;
  config: Record<string, unknown>;
  tests: ModelTest[];
}

type Fail = (where: string, message: string) => never;

/** Reads one properties file; throws ConfigurationError naming the file, model and column at fault. */
export function parseSchemaYaml(text: string, file: string): ModelProperties[] {
  const fail: Fail = (where, message) => {
    throw new ConfigurationError(`${file}: ${where}: ${message}`, { file });
  };
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigurationError(
      `${file}${line === undefined ? '' : `:${line}`}: not valid YAML: ${(error as Error).message}`,
      {
        file,
        line,
      },
    );
  }
  const models = (document as { models?: unknown } | null)?.models ?? [];
  if (!Array.isArray(models)) return fail('models', 'must be a list');
  return models.map((entry, index) => modelProperties(entry, { file, index, fail }));
}

function modelProperties(
  entry: unknown,
  where: { file: string; index: number; fail: Fail },
): ModelProperties {
  const model = entry as Record<string, unknown>;
  if (typeof model?.name !== 'string') return where.fail(`models[${where.index}]`, 'has no name');
  if (model.data_tests !== undefined || model.tests !== undefined) {
    where.fail(
      `model ${model.name}`,
      'model-level data_tests are not supported: put each test under its column',
    );
  }
  const columns = model.columns ?? [];
  if (!Array.isArray(columns)) return where.fail(`model ${model.name}`, 'columns must be a list');
  const tests = columns.flatMap((column: Record<string, unknown>) => {
    if (typeof column?.name !== 'string') return where.fail(`model ${model.name}`, 'a column has no name');
    const list = column.data_tests ?? column.tests ?? [];
    if (!Array.isArray(list))
      return where.fail(`model ${model.name}, column ${column.name}`, 'data_tests must be a list');
    return list.map((test) =>
      columnTest(test, column.name as string, (m) =>
        where.fail(`model ${model.name}, column ${column.name}`, m),
      ),
    );
  });
  return {
    name: model.name,
    file: where.file,
    ...(typeof model.description === 'string' ? { description: model.description } : {}),
    config: (model.config as Record<string, unknown> | undefined) ?? {},
    tests,
  };
}

function columnTest(test: unknown, column: string, fail: (message: string) => never): ModelTest {
  const [type, rawArguments] =
    typeof test === 'string' ? [test, {}] : (Object.entries(test as object)[0] ?? ['?', {}]);
  const settings = (rawArguments ?? {}) as Record<string, unknown>;
  // dbt 1.10 moved test arguments under `arguments:`; both places are read.
  const args = { ...settings, ...((settings.arguments as Record<string, unknown> | undefined) ?? {}) };
  const severity = severityOf(args, fail);
  const common = { column, ...(severity === undefined ? {} : { severity }) };
  switch (type) {
    case 'unique':
    case 'not_null':
      return { type, ...common };
    case 'accepted_values':
      if (!Array.isArray(args.values)) return fail('accepted_values needs values: [...]');
      return { type, ...common, values: args.values as (string | number | boolean)[] };
    case 'relationships':
      return { type, ...common, to: refTarget(args.to, fail), field: fieldOf(args.field, fail) };
    default:
      return fail(`unsupported data test "${type}": use unique, not_null, accepted_values or relationships`);
  }
}

function severityOf(
  args: Record<string, unknown>,
  fail: (message: string) => never,
): TestSeverity | undefined {
  const config = (args.config as Record<string, unknown> | undefined) ?? {};
  const value = config.severity ?? args.severity;
  if (value === undefined) return undefined;
  const severity = String(value).toLowerCase();
  if (severity !== 'warn' && severity !== 'error') return fail(`severity "${value}" is not warn or error`);
  return severity;
}

function refTarget(to: unknown, fail: (message: string) => never): string {
  const match = typeof to === 'string' ? /^\s*ref\(\s*(['"])([^'"]+)\1\s*\)\s*$/.exec(to) : null;
  if (match === null) return fail(`relationships needs to: ref('model'), got ${JSON.stringify(to)}`);
  return match[2]!;
}

function fieldOf(field: unknown, fail: (message: string) => never): string {
  if (typeof field !== 'string' || field === '')
    return fail('relationships needs field: <column of the referenced model>');
  return field;
}
