/**
 * Where a crash test's child script runs from: its JavaScript in `dist-fixtures/`, compiled by the
 * tests' global setup (packages/testing/tsconfig.fixtures.json). Plain node loads it on about a
 * third of the CPU that `node --import tsx` spends transpiling the sources, and the kill tests
 * start a child for every kill, dozens a minute, on a two-core machine beside other test files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sourceRoot = fileURLToPath(new URL('../', import.meta.url));
const compiledRoot = fileURLToPath(new URL('../../dist-fixtures/', import.meta.url));

/** The compiled path of `source` (a `.ts` file under this package's src/), which must exist. */
export function compiledChildScript(source: URL): string {
  const sourcePath = fileURLToPath(source);
  if (!sourcePath.startsWith(sourceRoot) || !sourcePath.endsWith('.ts')) {
    throw new Error(`${sourcePath} is not a .ts file under ${sourceRoot}`);
  }
  const compiled = `${compiledRoot}${sourcePath.slice(sourceRoot.length, -'.ts'.length)}.js`;
  if (!existsSync(compiled)) {
    throw new Error(
      `${compiled} is missing: run the tests through vitest (its global setup compiles the crash children) or run npm run build:fixtures`,
    );
  }
  return compiled;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the child wrote to stderr, for the failure message. */
  stderr: string;
}

/** Runs a compiled child with `args`; `onLine` hears each line of its stdout as it comes. */
export function runChild(
  script: string,
  args: readonly string[],
  onLine: (line: string, child: ChildProcess) => void,
): { child: ChildProcess; exited: Promise<ChildExit> } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) onLine(line, child);
  });
  const exited = new Promise<ChildExit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}
