/**
 * The command line of `causeway-lakehouse`: which command, which flags. Reading never touches the
 * disk; a wrong or missing flag is a UsageError whose message says what to pass instead.
 */
import { parseArgs } from 'node:util';
import type { SchemaOf } from '../models/references.ts';

export const generalUsage = `Usage: causeway-lakehouse <command> [options]

Commands:
  run      build a dbt-shaped SQL project's models into a DuckDB file and run its data tests
  models   list the project's models in build order with their last run

Run causeway-lakehouse <command> --help for a command's options.

Exit codes: 0 success; 1 a model or an error-severity test failed; 2 nothing ran (a wrong flag,
a broken project or selector, a missing or locked database file).`;

export const runUsage = `Usage: causeway-lakehouse run --project <dir> --database <file.duckdb> [options]
  --project DIR        the project: models/<layer>/<name>.sql, models/**/*.yml, tests/*.sql
  --database FILE      the DuckDB file to build into; it must exist (the models read their sources from it)
  --select SELECTOR    build only these models (repeatable): name, +name, name+, +name+, layer:<layer>
  --full-refresh       rebuild incremental models from scratch
  --schemas TEMPLATE   the schema of a layer or source, with {layer} for its name, e.g. g1_{layer}
                       (the shop's analytics service: g1_bronze, g1_silver, g1_gold); default {layer}
  -h, --help           this text

Prints a progress line per model on stderr (a bar on a terminal), then the models, the tests
with up to 5 failing rows each, and the run id on stdout. Exits 1 when the run failed.`;

export const modelsUsage = `Usage: causeway-lakehouse models --project <dir> --database <file.duckdb>
  --project DIR        the project: models/<layer>/<name>.sql, models/**/*.yml, tests/*.sql
  --database FILE      the DuckDB file whose run log gives each model's last run
  -h, --help           this text

Lists the models in build order: name, layer, materialization, the models it depends on, and
the status of its last run.`;

/** A flag or command the tool cannot use; the message says what to pass instead. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The usage text to print after the message. */
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What the command line asks for. */
export type CliCommand =
  | { command: 'help'; text: string }
  | {
      command: 'run';
      project: string;
      database: string;
      select: string[];
      fullRefresh: boolean;
      schemaOf: SchemaOf;
    }
  | { command: 'models'; project: string; database: string };

/** Reads `argv` (without node and the script); throws UsageError for anything it cannot use. */
export function readCommand(argv: readonly string[]): CliCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    return { command: 'help', text: generalUsage };
  }
  if (command === 'run') return readRunCommand(rest);
  if (command === 'models') return readModelsCommand(rest);
  throw new UsageError(
    command.startsWith('-')
      ? `Give the command before the flags: causeway-lakehouse run ${argv.join(' ')}`
      : `Unknown command "${command}": use run or models`,
    generalUsage,
  );
}

function readRunCommand(argv: readonly string[]): CliCommand {
  const values = parseFlags(argv, runUsage, {
    project: { type: 'string' },
    database: { type: 'string' },
    select: { type: 'string', multiple: true },
    'full-refresh': { type: 'boolean' },
    schemas: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return { command: 'help', text: runUsage };
  const selectors = (values.select as string[] | undefined) ?? [];
  return {
    command: 'run',
    ...requiredPaths(values, runUsage),
    // `--select "a b"` as in dbt: selectors separated by spaces.
    select: selectors.flatMap((selector) => selector.split(/\s+/)).filter((selector) => selector !== ''),
    fullRefresh: values['full-refresh'] === true,
    schemaOf: schemaTemplate(values.schemas as string | undefined),
  };
}

function readModelsCommand(argv: readonly string[]): CliCommand {
  const values = parseFlags(argv, modelsUsage, {
    project: { type: 'string' },
    database: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return { command: 'help', text: modelsUsage };
  return { command: 'models', ...requiredPaths(values, modelsUsage) };
}

type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;
type FlagOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parseFlags(argv: readonly string[], usage: string, options: FlagOptions): FlagValues {
  let parsed: { values: FlagValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    // Node's message for an unknown flag goes on about positionals; say it shortly, the usage follows.
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
    throw new UsageError(
      unknown === undefined ? (error as Error).message : `Unknown flag ${unknown}: the flags are below`,
      usage,
    );
  }
  const [extra] = parsed.positionals;
  if (extra !== undefined) {
    throw new UsageError(
      `Unexpected argument "${extra}": give each selector its own --select (--select a --select b), or quote them together`,
      usage,
    );
  }
  return parsed.values;
}

function requiredPaths(values: FlagValues, usage: string): { project: string; database: string } {
  const missing = ['project', 'database'].filter((flag) => typeof values[flag] !== 'string');
  if (missing.length > 0) {
    throw new UsageError(
      `Missing ${missing.map((flag) => `--${flag}`).join(' and ')}: pass the project folder and the DuckDB file`,
      usage,
    );
  }
  return { project: values.project as string, database: values.database as string };
}

/**
 * `g1_{layer}` → `silver` lives in `g1_silver`, the source `bronze` in `g1_bronze`. A template
 * without `{layer}` would put every layer and source in one schema, so it is refused.
 */
export function schemaTemplate(template: string | undefined): SchemaOf {
  if (template === undefined) return (layerOrSourceName) => layerOrSourceName;
  if (!template.includes('{layer}')) {
    throw new UsageError(
      `--schemas "${template}" has no {layer}: write where a layer's name goes, e.g. g1_{layer}`,
      runUsage,
    );
  }
  return (layerOrSourceName) => template.replaceAll('{layer}', layerOrSourceName);
}
