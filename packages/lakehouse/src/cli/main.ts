#!/usr/bin/env node
/**
 * `causeway-lakehouse run|models`: builds a dbt-shaped SQL project into a DuckDB file, or lists its
 * DAG. Progress goes to stderr, the report to stdout. Exit codes: 0 success, 1 the run failed (a
 * model, or an error-severity test), 2 nothing ran (flags, project, selector, database file).
 */
import { existsSync, statSync } from 'node:fs';
import { ConfigurationError, InvalidArgumentError } from '@causeway/core';
import { type Lakehouse, openLakehouse } from '../lakehouse.ts';
import { createModelRunner } from '../models/model-runner.ts';
import type { Project } from '../models/project.ts';
import { selectModels } from '../models/selection.ts';
import { loadSqlProject } from '../models/sql-project/load-sql-project.ts';
import { createProgressDisplay } from './progress-display.ts';
import { type CliCommand, readCommand, UsageError } from './read-command.ts';
import { formatModelList, formatRunReport } from './run-report.ts';

/** Nothing ran: the message says what is wrong and what to do. Exit code 2. */
class CannotRunError extends Error {}

type RunCommand = Extract<CliCommand, { command: 'run' }>;

async function main(argv: readonly string[]): Promise<number> {
  const command = readCommand(argv);
  if (command.command === 'help') {
    process.stdout.write(`${command.text}\n`);
    return 0;
  }
  const project = await loadProject(command.project);
  // Checked before the file is opened: a wrong selector costs nothing.
  const selected = command.command === 'run' ? selectedModels(project, command.select) : [];
  const lakehouse = await openDatabase(command.database);
  try {
    if (command.command === 'models') {
      const models = await createModelRunner({ lakehouse, project }).describe();
      writeLines(formatModelList(models));
      return 0;
    }
    return await runModels({ command, project, lakehouse, selected });
  } finally {
    await lakehouse.close();
  }
}

async function runModels(input: {
  command: RunCommand;
  project: Project;
  lakehouse: Lakehouse;
  selected: readonly string[];
}): Promise<number> {
  const { command, project, lakehouse, selected } = input;
  process.stderr.write(
    `Building ${selected.length} of ${project.models.size} models into ${command.database}` +
      `${command.fullRefresh ? ' (full refresh)' : ''}\n`,
  );
  const display = createProgressDisplay({ models: selected, stream: process.stderr });
  const stopOnInterrupt = () => {
    display.stop();
    process.stderr.write('\nInterrupted: the model being built is not committed; the ones before it are.\n');
    process.exit(130);
  };
  process.once('SIGINT', stopOnInterrupt);
  const runner = createModelRunner({
    lakehouse,
    project,
    schemaOf: command.schemaOf,
    onProgress: (progress) => display.update(progress),
  });
  try {
    const run = await runner.run({ select: command.select, fullRefresh: command.fullRefresh });
    display.stop();
    writeLines(['', ...formatRunReport(run)]);
    return run.status === 'success' ? 0 : 1;
  } finally {
    display.stop();
    process.off('SIGINT', stopOnInterrupt);
  }
}

async function loadProject(directory: string): Promise<Project> {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new CannotRunError(
      `No project folder at ${directory}: check --project (a folder with models/<layer>/*.sql)`,
    );
  }
  let project: Project;
  try {
    project = await loadSqlProject(directory);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new CannotRunError(`The project in ${directory} is not valid: ${error.message}`);
  }
  if (project.models.size === 0) {
    throw new CannotRunError(
      `${directory} has no models: --project must be a dbt-shaped folder with models/<layer>/<name>.sql`,
    );
  }
  return project;
}

function selectedModels(project: Project, selectors: readonly string[]): string[] {
  try {
    return selectModels(project, selectors);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new CannotRunError(`${error.message}: fix --select`);
  }
}

/** Opens an existing file; a missing one is a typo far more often than a wish for an empty file. */
async function openDatabase(path: string): Promise<Lakehouse> {
  if (!existsSync(path)) {
    throw new CannotRunError(
      `No DuckDB file at ${path}: check --database (the models read their sources from that file, so it must exist)`,
    );
  }
  try {
    return await openLakehouse({ path });
  } catch (error) {
    // openLakehouse's only ConfigurationError: another process holds DuckDB's lock on the file.
    if (!(error instanceof ConfigurationError)) throw error;
    throw new CannotRunError(
      `${path} is held by another process (DuckDB lets one process open a file; the shop's analytics ` +
        'service keeps its analytics.duckdb open while it runs): stop that process, or run against a copy ' +
        '(copy the file, with its .wal if there is one, while that process is stopped)',
    );
  }
}

function writeLines(lines: readonly string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${error.usage}\n`);
    process.exitCode = 2;
  } else if (error instanceof CannotRunError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`The run broke off: ${(error as Error).message ?? error}\n`);
    process.exitCode = 1;
  }
}
