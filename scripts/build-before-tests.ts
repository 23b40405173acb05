/**
 * Vitest global setup: `npm run build` once before any test file runs, so the end-to-end tests
 * start the shop as `npm start` does, from compiled JavaScript (a service restarted after a
 * SIGKILL is back in half the time it takes under tsx), and the pack-and-install test packs
 * fresh output; then the crash tests' child processes (build:fixtures). Incremental: a second run with nothing changed takes about a second.
 */
import { execFileSync } from 'node:child_process';

export default function buildBeforeTests(): void {
  const began = Date.now();
  process.stderr.write('Building the packages and the shop (npm run build) before the tests...\n');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  // The crash tests' children, which run as plain node from JavaScript (compiled-child.ts).
  execFileSync('npm', ['run', 'build:fixtures', '--silent'], { stdio: 'inherit' });
  process.stderr.write(`Built in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
}
