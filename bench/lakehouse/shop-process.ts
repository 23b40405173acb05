/**
 * The reference shop for the freshness figure, as `npm start` and `npm run load` run it: built
 * first (`npm run build`, incremental: seconds when nothing changed), then started by the e2e
 * tests' `startShop` from the compiled JavaScript on the embedded defaults (SQLite files, the
 * embedded transport, the in-process cache), with a fresh DATA_DIR and ports of its own.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RunningShop, startShop } from '../../apps/shop/src/e2e/running-shop.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `npm run build`, its output on stderr so stdout keeps only the bench's results. */
export function buildShop(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repositoryRoot, stdio: ['ignore', 2, 2] });
}

/**
 * Starts the built shop on its embedded, open defaults whatever the environment says (an empty
 * setting reads as unset), and resolves once its health check reports every service up.
 */
export function startEmbeddedShop(): Promise<RunningShop> {
  return startShop({
    SHOP_POSTGRES_URL: '',
    SHOP_TRANSPORT: 'embedded',
    SHOP_CACHE: 'lru',
    SHOP_ADMIN_TOKEN: '',
  });
}
