/**
 * How a child process is started. Built, the shop runs as plain JavaScript from `dist/` (the
 * same layout as `src/`, `.ts` imports rewritten to `.js`); from its sources, each child runs its
 * `.ts` entry point with tsx, and the `@causeway/source` export condition makes the workspace
 * packages resolve to their TypeScript sources as well.
 */
import { fileURLToPath } from 'node:url';

/** The export condition under which workspace packages point at their `.ts` sources. */
export const sourceCondition = '@causeway/source';

/** True when `moduleUrl` (a module's `import.meta.url`) is compiled JavaScript, not a `.ts` source. */
export function isCompiled(moduleUrl: string): boolean {
  return moduleUrl.endsWith('.js');
}

/**
 * The path of the script `relativeTs` (written as the `.ts` source, relative to `moduleUrl`) in
 * the form this code runs in: the sibling `.js` when `moduleUrl` is compiled, the `.ts` otherwise.
 */
export function siblingScript(relativeTs: string, moduleUrl: string): string {
  const relative = isCompiled(moduleUrl) ? relativeTs.replace(/\.ts$/, '.js') : relativeTs;
  return fileURLToPath(new URL(relative, moduleUrl));
}

/**
 * Node's arguments for a child: plain `node <script.js>`, or tsx with the source condition for `.ts`.
 * With `SHOP_PROFILE_DIR` set, each child also writes a V8 CPU profile there when it exits (Node
 * refuses `--cpu-prof` in NODE_OPTIONS): how docs/design/performance.md profiles the shop.
 */
export function nodeArgumentsFor(script: string, profileDir = process.env.SHOP_PROFILE_DIR): string[] {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return script.endsWith('.ts')
    ? [...profile, '--import', 'tsx', `--conditions=${sourceCondition}`, script]
    : [...profile, script];
}
