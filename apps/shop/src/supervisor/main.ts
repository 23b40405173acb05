/**
 * `npm start`: runs the shop (eight services and the gateway, one process each unless
 * `--instances` asks for more) under the supervisor, until Ctrl-C. Settings: environment variables or flags, see `npm start -- --help`.
 * Before it starts anything it checks the ports and servers (preflight/): a shop that cannot run
 * exits 1 with one line saying why; so does one whose service cannot start (its error follows).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { backendServiceNames, configHelp, loadConfig, type ShopConfig, ShopConfigError } from '../config.ts';
import { displayPath } from './display-path.ts';
import { findStartProblem } from './preflight/index.ts';
import { readyBanner } from './ready-banner.ts';
import { shopServiceEntries } from './shop-services.ts';
import { statusFileName } from './status-file.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { Supervisor } from './supervisor.ts';
import { waitUntilUpOrExit } from './wait-until-up.ts';

function readConfig(): ShopConfig {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      `Usage: npm start [-- flags]\n\nSettings (a flag wins over its environment variable):\n${configHelp()}`,
    );
    process.exit(0);
  }
  try {
    return loadConfig(argv);
  } catch (error) {
    if (!(error instanceof ShopConfigError)) throw error;
    console.error(`${error.message}\n\nSee npm start -- --help for every setting.`);
    process.exit(2);
  }
}

const config = readConfig();
const problem = await findStartProblem(config);
if (problem !== undefined) {
  console.error(problem);
  process.exit(1);
}
mkdirSync(config.dataDir, { recursive: true });
const logDir = join(config.dataDir, 'logs');
const supervisor = new Supervisor({
  services: shopServiceEntries(config),
  statusFile: join(config.dataDir, statusFileName),
  logDir,
});
stopOnSignals(supervisor);

const several = Object.entries(config.instances).filter(([, count]) => count !== undefined && count > 1);
const processes =
  several.length === 0 ? '' : `, ${several.map(([service, count]) => `${service} ×${count}`).join(', ')}`;
console.log(
  `Starting the shop: ${backendServiceNames.length} services and the gateway${processes} (logs in ${displayPath(logDir)}/<service>.log)`,
);
supervisor.start();
await waitUntilUpOrExit(supervisor, { logDir });
for (const line of readyBanner(config)) console.log(line);
