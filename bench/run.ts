/**
 * `npm run bench -- [suite] [--quick]`: runs one suite (a folder of bench/ with an index.ts that
 * exports `runSuite`), or every suite when none is named. Progress goes to stderr; stdout gets
 * the results table and one JSON line per figure.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchOptions, benchOptions } from './support/bench-options.ts';
import { type Figure, printFigures } from './support/report.ts';

type SuiteRunner = (options: BenchOptions) => Promise<Figure[]>;

const benchDir = dirname(fileURLToPath(import.meta.url));

function listSuites(): string[] {
  return readdirSync(benchDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(benchDir, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

async function loadSuite(name: string): Promise<SuiteRunner> {
  const module = (await import(pathToFileURL(join(benchDir, name, 'index.ts')).href)) as {
    runSuite?: unknown;
  };
  if (typeof module.runSuite !== 'function')
    throw new Error(`bench/${name}/index.ts must export runSuite(options)`);
  return module.runSuite as SuiteRunner;
}

async function main(argv: readonly string[]): Promise<void> {
  const flags = argv.filter((arg) => arg.startsWith('--'));
  const named = argv.filter((arg) => !arg.startsWith('--'));
  const available = listSuites();
  const unknown = named.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new Error(`Unknown bench suite(s) ${unknown.join(', ')}: choose from ${available.join(', ')}`);
  }
  const options = benchOptions(flags);
  const figures: Figure[] = [];
  for (const name of named.length > 0 ? named : available) {
    figures.push(...(await (await loadSuite(name))(options)));
  }
  printFigures(figures);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
