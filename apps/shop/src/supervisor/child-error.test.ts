/**
 * summarizeChildError on what real Node processes write when they die (no hand-written stack
 * traces): each case runs a small script and reads its output the way the supervisor does.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeChildError } from './child-error.ts';
import { temporaryDir } from './test-support/helpers.ts';

/** Writes `files` into a fresh directory, runs `main.mjs` there, returns stdout and stderr as one log. */
function outputOf(files: Record<string, string>): { dir: string; output: string } {
  const dir = temporaryDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const logFile = join(dir, 'child.log');
  const fd = openSync(logFile, 'w');
  try {
    const result = spawnSync(process.execPath, [join(dir, 'main.mjs')], { stdio: ['ignore', fd, fd] });
    expect(result.status).not.toBe(0);
  } finally {
    closeSync(fd);
  }
  return { dir, output: readFileSync(logFile, 'utf8') };
}

describe('summarizeChildError', () => {
  it("gives a crashed service's error, the line that threw it, and its cause, not Node's internals", () => {
    const { dir, output } = outputOf({
      'main.mjs': `
        class StoreFailureError extends Error { name = 'StoreFailureError'; code = 'STORE_FAILURE'; }
        console.log('orders listening on 3004');
        const cause = new Error('file is not a database');
        throw new StoreFailureError('sqlite store failed: cannot open "orders.db"', { cause });
      `,
    });
    expect(summarizeChildError(output)).toEqual([
      'StoreFailureError: sqlite store failed: cannot open "orders.db"',
      `  at file://${dir}/main.mjs:5:15`,
      '  [cause]: Error: file is not a database',
    ]);
  });

  it('keeps every line of a message that has several', () => {
    const { output } = outputOf({
      'main.mjs': `throw new Error('Invalid shop configuration:\\n  PORT = "x": expected a whole number');`,
    });
    expect(summarizeChildError(output).slice(0, 2)).toEqual([
      'Error: Invalid shop configuration:',
      '  PORT = "x": expected a whole number',
    ]);
  });

  it('points at the caller, not into node_modules, when a library threw', () => {
    const { dir, output } = outputOf({
      'node_modules/driver/index.js': `export function connect() { throw new TypeError('driver: bad port'); }`,
      'node_modules/driver/package.json': '{ "type": "module", "exports": "./index.js" }',
      'main.mjs': `import { connect } from 'driver';\nconnect();`,
    });
    expect(summarizeChildError(output)).toEqual([
      'TypeError: driver: bad port',
      `  at file://${dir}/main.mjs:2:1`,
    ]);
  });

  it('reports an unhandled rejection the same way', () => {
    const { dir, output } = outputOf({
      'main.mjs': `async function start() { throw new RangeError('no such port'); }\nawait start();`,
    });
    expect(summarizeChildError(output)).toEqual([
      'RangeError: no such port',
      `  at start (file://${dir}/main.mjs:1:32)`,
    ]);
  });

  it('takes the error the output ends with, not one logged earlier', () => {
    const { output } = outputOf({
      'main.mjs': `console.error('Error: a retry that worked');\nthrow new Error('the real reason');`,
    });
    expect(summarizeChildError(output)[0]).toBe('Error: the real reason');
  });

  it('gives the last lines of a service that said why itself and exited', () => {
    const { output } = outputOf({
      'main.mjs': `for (let line = 1; line <= 7; line++) console.log('line ' + line);\nconsole.error('cannot start: no disk');\nprocess.exit(2);`,
    });
    expect(summarizeChildError(output, 3)).toEqual(['line 6', 'line 7', 'cannot start: no disk']);
  });
});
