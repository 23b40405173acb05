/**
 * `npm start`: runs the shop (seven services and the gateway, one process each) under the
 * supervisor, until Ctrl-C. Settings: environment variables or flags, see `npm start -- --help`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { configHelp, loadConfig, type ShopConfig, ShopConfigError } from '../config.ts';
import { displayPath } from './display-path.ts';
import { backendsSummary, gatewayUrl, shopServiceEntries } from './shop-services.ts';
import { statusFileName } from './status-file.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { Supervisor } from './supervisor.ts';

const slowStartHintMs = 60_000;

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
mkdirSync(config.dataDir, { recursive: true });
const logDir = join(config.dataDir, 'logs');
const supervisor = new Supervisor({
  services: shopServiceEntries(config),
  statusFile: join(config.dataDir, statusFileName),
  logDir,
});
stopOnSignals(supervisor);

console.log(`Starting the shop: 7 services and the gateway (logs in ${displayPath(logDir)}/<service>.log)`);
supervisor.start();
const hint = setInterval(() => {
  console.log(
    `  still waiting for ${supervisor.notUp().join(', ')}: see their logs in ${displayPath(logDir)}`,
  );
}, slowStartHintMs);
await supervisor.whenAllUp();
clearInterval(hint);
console.log(`\nShop ready: ${gatewayUrl(config)}  (${backendsSummary(config)})`);
console.log('Press Ctrl-C to stop.');
